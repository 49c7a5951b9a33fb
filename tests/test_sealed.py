"""Sealed JSON columns: encrypted at rest, the plain document in Python, old rows still read."""

from __future__ import annotations

import base64

from sqlalchemy.dialects import sqlite

from auth.crypto import PersonalDataCipher
from portal import sealed
from portal.sealed import SealedJSON

DIALECT = sqlite.dialect()


def test_a_document_is_sealed_and_opened_again() -> None:
    sealed.configure(PersonalDataCipher(base64.b64encode(b"k" * 32).decode()))
    column = SealedJSON()
    document = {"spouse_id_number": "410702199408270425", "address": {"street": "和平大道"}}
    stored = column.process_bind_param(document, DIALECT)
    assert set(stored) == {"sealed"} and "410702199408270425" not in str(stored)
    assert column.process_result_value(stored, DIALECT) == document


def test_rows_written_before_sealing_still_read() -> None:
    assert SealedJSON().process_result_value({"child_name": "张小宝"}, DIALECT) == {
        "child_name": "张小宝"
    }
