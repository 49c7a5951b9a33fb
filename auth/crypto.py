"""Personal identifiers at rest: AES-GCM encryption plus a keyed hash for lookups.

An ID number is stored twice: encrypted (to show it masked, or to the person themselves) and
as an HMAC (to find the person again without decrypting every row). Both keys are derived
from ``PORTAL_DATA_KEY`` with HKDF, so one secret configures both and neither is reused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def _derive(master: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=label).derive(master)


class PersonalDataCipher:
    def __init__(self, data_key_b64: str) -> None:
        master = base64.b64decode(data_key_b64)
        if len(master) != 32:
            raise ValueError("PORTAL_DATA_KEY must be base64 of exactly 32 bytes")
        self._aead = AESGCM(_derive(master, b"portal personal data encryption"))
        self._lookup_key = _derive(master, b"portal personal data lookup")

    def encrypt(self, value: str, purpose: str) -> bytes:
        """``purpose`` (e.g. "person.id_number") is bound in: a ciphertext moved to another
        column does not decrypt."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, value.encode(), purpose.encode())

    def decrypt(self, blob: bytes, purpose: str) -> str:
        return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode()).decode()

    def lookup_hash(self, value: str, purpose: str) -> str:
        message = f"{purpose}\x00{value.strip().upper()}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """110101199003071234 → 110***********1234, as people are used to seeing it."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
