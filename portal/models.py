"""Imports every module that defines tables, so Alembic sees the whole schema."""

from auth.models import AgentAuthorization, Enterprise, EnterpriseRole, Person, WeChatBinding
from portal.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationItem,
    Draft,
    OutboxMessage,
    Upload,
    WebhookMessage,
)
from portal.notifications.models import Notification, NotificationPreference
from portal.profile.models import Consent, ProfileEntry
from portal.web.ratelimit import RateLimitHit
from portal.web.sessions import WebSession

__all__ = [
    "AgentAuthorization",
    "Application",
    "ApplicationEvent",
    "ApplicationItem",
    "Consent",
    "Draft",
    "Enterprise",
    "EnterpriseRole",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "Person",
    "ProfileEntry",
    "RateLimitHit",
    "Upload",
    "WeChatBinding",
    "WebSession",
    "WebhookMessage",
]
