"""Who is asking: sign-in through the unified identity provider (OIDC) and the WeChat
mini-program, the assurance level, and the subject a person acts for (themselves or an
enterprise, as legal representative or authorised agent).

Flow: /auth/login → provider → /auth/callback → ``services.sign_in`` stores the person (ID
number encrypted) and rotates the server-side session; ``actor.load_actor``, run by the session
middleware on the session row's connection, loads the person and the acting subject on every
request and checks agent authorisations as it goes.
"""
