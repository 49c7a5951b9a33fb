"""好差评: rating an application or a sub-item once (一事一评), the follow-up of bad ratings
the platform reports back, and the public figures. A rating is written with its outbox row in
one transaction (``services``); the relay hands it to the platform (``relay``); the platform's
follow-up events are applied by the sequence rule (``followup``); ``figures`` counts them."""
