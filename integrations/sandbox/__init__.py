"""The sandbox: stand-ins for the outside systems, speaking their real protocols over HTTP.

``create_sandbox_app`` builds it; the portal mounts it at ``/sandbox`` or ``portal sandbox``
serves it alone. Its state lives in its process (see docs/identity.md).
"""

from integrations.sandbox.app import create_sandbox_app
from integrations.sandbox.idp import create_idp_app
from integrations.sandbox.idp_models import SandboxClient
from integrations.sandbox.intake import IntakeClient, create_intake_app
from integrations.sandbox.licenses import create_licenses_app
from integrations.sandbox.people import PEOPLE, DemoPerson, Enterprise
from integrations.sandbox.registry import create_registry_app
from integrations.sandbox.wechat import create_wechat_app

__all__ = [
    "PEOPLE",
    "DemoPerson",
    "Enterprise",
    "IntakeClient",
    "SandboxClient",
    "create_idp_app",
    "create_intake_app",
    "create_licenses_app",
    "create_registry_app",
    "create_sandbox_app",
    "create_wechat_app",
]
