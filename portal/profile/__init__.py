"""一人一档: a person's own page. Identity (masked), saved contacts and addresses forms may
reuse once the person consents (what, when, purpose: recorded, withdrawable), WeChat
bindings, the subjects they may act for, a JSON download of everything stored about them,
and deletion of their account data.
"""
