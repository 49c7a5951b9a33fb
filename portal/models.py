"""Imports every module that defines tables, so Alembic sees the whole schema."""

from auth.models import AgentAuthorization, Enterprise, EnterpriseRole, Person, WeChatBinding
from portal.profile.models import Consent, ProfileEntry
from portal.web.sessions import WebSession

__all__ = [
    "AgentAuthorization",
    "Consent",
    "Enterprise",
    "EnterpriseRole",
    "Person",
    "ProfileEntry",
    "WeChatBinding",
    "WebSession",
]
