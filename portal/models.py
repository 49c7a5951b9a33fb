"""Imports every module that defines tables, so Alembic sees the whole schema."""

from auth.models import AgentAuthorization, Enterprise, EnterpriseRole, Person, WeChatBinding
from portal.applications.models import (
    Application,
    ApplicationItem,
    Draft,
    OutboxMessage,
    Upload,
)
from portal.profile.models import Consent, ProfileEntry
from portal.web.sessions import WebSession

__all__ = [
    "AgentAuthorization",
    "Application",
    "ApplicationItem",
    "Consent",
    "Draft",
    "Enterprise",
    "EnterpriseRole",
    "OutboxMessage",
    "Person",
    "ProfileEntry",
    "Upload",
    "WeChatBinding",
    "WebSession",
]
