import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from auth.crypto import PersonalDataCipher, mask_id_number, mask_phone

KEY = base64.b64encode(os.urandom(32)).decode()


def test_round_trip_and_randomised() -> None:
    cipher = PersonalDataCipher(KEY)
    a = cipher.encrypt("410702199003071234", "person.id_number")
    b = cipher.encrypt("410702199003071234", "person.id_number")
    assert a != b and b"4107" not in a
    assert cipher.decrypt(a, "person.id_number") == "410702199003071234"


def test_ciphertext_is_bound_to_its_purpose() -> None:
    cipher = PersonalDataCipher(KEY)
    blob = cipher.encrypt("410702199003071234", "person.id_number")
    with pytest.raises(InvalidTag):
        cipher.decrypt(blob, "person.phone")


def test_another_key_cannot_read_it() -> None:
    blob = PersonalDataCipher(KEY).encrypt("x", "p")
    with pytest.raises(InvalidTag):
        PersonalDataCipher(base64.b64encode(os.urandom(32)).decode()).decrypt(blob, "p")


def test_lookup_hash_is_keyed_stable_and_case_blind() -> None:
    cipher = PersonalDataCipher(KEY)
    h = cipher.lookup_hash("41070219900307123x", "person.id_number")
    assert h == cipher.lookup_hash("41070219900307123X ", "person.id_number")
    other = PersonalDataCipher(base64.b64encode(os.urandom(32)).decode())
    assert h != other.lookup_hash("41070219900307123X", "person.id_number")


def test_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PersonalDataCipher(base64.b64encode(b"short").decode())


def test_masks() -> None:
    assert mask_id_number("110101199003071234") == "110***********1234"
    assert mask_phone("13812345678") == "138****5678"
