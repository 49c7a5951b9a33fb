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


def test_columns_holding_what_people_typed_or_their_contact_are_sealed() -> None:
    from portal.applications.models import Application, Draft

    for column in (
        Draft.values,
        Draft.prefilled,
        Application.values,
        Application.platform,
        Application.delivery,  # the recipient's mobile number and address
    ):
        assert isinstance(column.property.columns[0].type, SealedJSON), column
