"""The enterprise registry (企业登记信息): the registered facts of a company, looked up by its
unified social credit code; see docs/licenses.md. ``EnterpriseRegistry`` is what the portal
calls."""

from integrations.registry.client import (
    EnterpriseRecord,
    EnterpriseRegistry,
    EnterpriseStatus,
    RegistryError,
)

__all__ = ["EnterpriseRecord", "EnterpriseRegistry", "EnterpriseStatus", "RegistryError"]
