from portal.catalog.loader import load_catalog
from portal.forms.prefill import PrefillContext, identity_claims, prefill

NEWBORN = load_catalog(only=["newborn"]).things["newborn"]


def test_sources_fill_and_say_where_from() -> None:
    ctx = PrefillContext(
        identity=identity_claims("李娜", "11010519491231002X", "13812345678"),
        profile={"address": "河南省新乡市红旗区人民路 1 号", "bank_account": "6222021234567890"},
        licenses={
            "marriage_certificate": {
                "spouse_name": "张伟",
                "spouse_id_number": "110105194912310029",
                "registration_date": "2020-05-20",
            },
            "household_register": {
                "address": "河南省新乡市牧野区胜利路 8 号",
                "household_head": "张伟",
            },
        },
    )
    found = prefill(NEWBORN.fields, ctx)
    assert found["applicant_name"].value == "李娜" and found["applicant_name"].locked
    assert found["applicant_id_number"].source == "identity"
    assert (
        found["spouse_name"].value == "张伟"
        and found["spouse_name"].detail == "marriage_certificate"
    )
    assert not found["spouse_name"].locked
    assert found["household_address"].value["county"] == "410711"
    assert found["delivery_address"].source == "profile"
    assert found["bank_account"].value == "6222021234567890"


def test_no_consent_means_no_profile_values() -> None:
    ctx = PrefillContext(identity=identity_claims("李娜", None, None), profile=None)
    found = prefill(NEWBORN.fields, ctx)
    assert "delivery_address" not in found and "bank_account" not in found


def test_a_value_that_does_not_fit_the_field_is_not_used() -> None:
    ctx = PrefillContext(licenses={"marriage_certificate": {"spouse_id_number": "not-an-id"}})
    assert "spouse_id_number" not in prefill(NEWBORN.fields, ctx)


def test_identity_claims_derive_sex_and_birth_date() -> None:
    claims = identity_claims("x", "11010519491231002X", None)
    assert claims["birth_date"] == "1949-12-31" and claims["sex"] == "female"
