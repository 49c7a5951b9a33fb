"""The relay: delivers the outbox to outside systems, never losing or doubling a message.

Rows are written in the same transaction as the change they report (``outbox.enqueue``);
workers claim due rows under a lease (``outbox.claim``: ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so any number of workers can run), hand each to the handler of its topic
(``handlers``), and record the outcome: sent, retried later with backoff and jitter, or
failed for good. A circuit breaker per target stops calls to a system that is down.
"""
