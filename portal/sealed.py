"""JSON columns sealed at rest: what a person typed into a form (a spouse's ID number, a
bank account) is stored AES-GCM encrypted, and read back as the plain document.

The column stays JSON (``{"sealed": "<base64>"}``), so no migration is needed and rows
written before sealing still read. The cipher comes from ``PORTAL_DATA_KEY``: every process
that opens these rows (the web app, ``portal relay``) calls ``configure`` once at start.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from auth.crypto import PersonalDataCipher

PURPOSE = "sealed.json"
_cipher: PersonalDataCipher | None = None


def configure(cipher: PersonalDataCipher) -> None:
    global _cipher
    _cipher = cipher


def _required() -> PersonalDataCipher:
    if _cipher is None:
        raise RuntimeError("portal.sealed.configure(cipher) was not called in this process")
    return _cipher


class SealedJSON(TypeDecorator[Any]):
    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        plain = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return {"sealed": base64.b64encode(_required().encrypt(plain, PURPOSE)).decode()}

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, dict) and set(value) == {"sealed"}:
            blob = base64.b64decode(value["sealed"])
            return json.loads(_required().decrypt(blob, PURPOSE))
        return value  # written before sealing
