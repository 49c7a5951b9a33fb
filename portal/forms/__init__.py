"""一表申请: the one merged form of a one-thing.

Situation answers decide which sub-items apply (``applicability``); their fields merge into
one list, each canonical field once, in sections (``merged``); values already held somewhere
are filled in (``prefill``); every typed value is checked by its field type (``validation``).
Pure functions over the catalog schema: drafts and submission live in portal.applications.
"""
