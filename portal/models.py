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
from portal.assist.models import (
    AssistBooking,
    AssistConsent,
    AssistMessage,
    AssistSession,
    AssistSlot,
    CoFillProposal,
    DraftChange,
)
from portal.notifications.models import Notification, NotificationPreference
from portal.profile.models import Consent, ProfileEntry
from portal.ratings.models import Rating
from portal.wallet.models import ExpiryReminder, UsageEntry, UseGrant, VerificationToken
from portal.web.ratelimit import RateLimitHit
from portal.web.sessions import WebSession

__all__ = [
    "AgentAuthorization",
    "Application",
    "ApplicationEvent",
    "ApplicationItem",
    "AssistBooking",
    "AssistConsent",
    "AssistMessage",
    "AssistSession",
    "AssistSlot",
    "CoFillProposal",
    "Consent",
    "Draft",
    "DraftChange",
    "Enterprise",
    "EnterpriseRole",
    "ExpiryReminder",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "Person",
    "ProfileEntry",
    "RateLimitHit",
    "Rating",
    "Upload",
    "UsageEntry",
    "UseGrant",
    "VerificationToken",
    "WeChatBinding",
    "WebSession",
    "WebhookMessage",
]
