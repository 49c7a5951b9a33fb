"""Applications: drafts that save as the person goes, the materials, submission.

A draft belongs to a subject (person or enterprise) and records its operator. Submitting
writes the application, its items and an outbox row in one transaction (the relay sends it
to the platform later; no outside call happens in the request). One draft gives at most one
application, so a double click cannot submit twice.
"""
