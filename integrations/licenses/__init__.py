"""The e-license library (电子证照库): licenses held by a person or an enterprise, their
GB/T 36904 identifiers, rendered files and verification; see docs/licenses.md.
``LicenseLibrary`` is what the portal calls; ``identifier`` holds the pure identifier rule."""

from integrations.licenses.client import LicenseLibrary, LicenseLibraryError, LicenseNotFound
from integrations.licenses.identifier import check_identifier, make_identifier
from integrations.licenses.models import (
    RESIDENT_ID,
    USCC,
    CodeType,
    Holder,
    Issuer,
    License,
    LicenseSummary,
    Party,
    Verification,
)
from integrations.licenses.types import LicenseType, license_type, license_types

__all__ = [
    "RESIDENT_ID",
    "USCC",
    "CodeType",
    "Holder",
    "Issuer",
    "License",
    "LicenseLibrary",
    "LicenseLibraryError",
    "LicenseNotFound",
    "LicenseSummary",
    "LicenseType",
    "Party",
    "Verification",
    "check_identifier",
    "license_type",
    "license_types",
    "make_identifier",
]
