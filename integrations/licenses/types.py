"""The e-license types the portal knows, read from the catalog's ``license_types.yaml``.

Only what crosses the library boundary is kept: the key the portal uses
(``license.<key>.<field>`` in prefills), the Chinese name, the GB/T 36904 type code and the
data fields a license of that type carries. The catalog loader validates the file; this
reader is deliberately small so the sandbox and the client need nothing from ``portal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

LICENSE_TYPES_RESOURCE = "catalog/reference/license_types.yaml"


@dataclass(frozen=True)
class LicenseType:
    key: str
    name: str
    type_code: str
    fields: tuple[str, ...]


@cache
def license_types() -> dict[str, LicenseType]:
    """Every type by key, in catalog order."""
    text = resources.files("portal").joinpath(LICENSE_TYPES_RESOURCE).read_text("utf-8")
    entries: list[dict[str, Any]] = yaml.safe_load(text)["license_types"]
    return {entry["key"]: _parse(entry) for entry in entries}


def _parse(entry: dict[str, Any]) -> LicenseType:
    return LicenseType(
        key=str(entry["key"]),
        name=str(entry["name"]["zh_Hans"]),
        type_code=str(entry["type_code"]),
        fields=tuple(str(name) for name in entry.get("fields", [])),
    )


def license_type(key: str) -> LicenseType:
    """The type called ``key``; ``KeyError`` when the catalog has none."""
    return license_types()[key]
