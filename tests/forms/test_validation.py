import pytest

from portal.catalog.loader import load_catalog
from portal.catalog.schema import FieldType, FormField, Text
from portal.forms.validation import check, check_value, parse_date, read_fields

NEWBORN = load_catalog(only=["newborn"]).things["newborn"]
FIELDS = {f.key: f for f in NEWBORN.fields}


def _field(kind: FieldType, **extra: object) -> FormField:
    return FormField(key="x", label=Text(zh_Hans="甲", en="A"), type=kind, section="s", **extra)


@pytest.mark.parametrize(
    ("kind", "raw", "expected", "problem"),
    [
        (FieldType.RESIDENT_ID, "11010119900307123 4", None, "resident_id"),
        (FieldType.RESIDENT_ID, "110101199003071235", None, "resident_id"),
        (FieldType.USCC, "91410700MA45RT3K8B", None, "uscc"),
        (FieldType.MOBILE, "1381234567", None, "mobile"),
        (FieldType.MOBILE, "+86 138-1234-5678", "13812345678", None),
        (FieldType.DATE, "2026-02-30", None, "date"),
        (FieldType.DATE, "2026年2月3日", "2026-02-03", None),
        (FieldType.MONEY, "12.345", None, "money"),
        (FieldType.MONEY, "1,200.5", "1200.50", None),
        (FieldType.BANK_ACCOUNT, "6222 0212 3456 7890", "6222021234567890", None),
        (FieldType.EMAIL, "a@b", None, "email"),
        (FieldType.TEXT, "", None, "required"),
    ],
)
def test_scalar_checks(
    kind: FieldType, raw: str, expected: str | None, problem: str | None
) -> None:
    value, problems = check_value(_field(kind), raw, "x")
    assert problems == ({"x": problem} if problem else {})
    if expected is not None:
        assert value == expected


def test_a_valid_id_number_is_normalised() -> None:
    value, problems = check_value(_field(FieldType.RESIDENT_ID), "41070219900307127x", "x")
    assert problems == {} or value  # checksum decides; see the next test for a known one
    ok, problems = check_value(_field(FieldType.RESIDENT_ID), "11010519491231002X", "x")
    assert (ok, problems) == ("11010519491231002X", {})


def test_address_needs_a_real_division_chain_and_a_street() -> None:
    field = FIELDS["household_address"]
    good = {"province": "41", "city": "4107", "county": "410702", "street": "人民路 1 号"}
    value, problems = check_value(field, good, field.key)
    assert problems == {} and value["text"] == "河南省新乡市红旗区人民路 1 号"
    _, problems = check_value(field, {**good, "county": "110101"}, field.key)
    assert problems == {"household_address.county": "address_division"}
    _, problems = check_value(field, {**good, "street": ""}, field.key)
    assert problems == {"household_address.street": "address_street"}


def test_conditional_field_counts_only_when_shown() -> None:
    fields = [FIELDS["delivery_method"], FIELDS["delivery_address"]]
    assert "delivery_address" not in check(fields, {"delivery_method": "pickup"}).problems
    assert "delivery_address" in check(fields, {"delivery_method": "mail"}).problems


def test_read_fields_keeps_what_was_typed() -> None:
    form = {
        "f.mobile": " 138 ",
        "f.household_address.province": "41",
        "f.household_address.street": "x",
    }
    values = read_fields([FIELDS["mobile"], FIELDS["household_address"]], form)
    assert values["mobile"] == "138"
    assert values["household_address"] == {
        "province": "41",
        "city": "",
        "county": "",
        "street": "x",
    }


def test_parse_date_rejects_impossible_dates() -> None:
    assert parse_date("2024-02-29") is not None
    assert parse_date("2023-02-29") is None


@pytest.mark.parametrize(
    ("kind", "raw", "zh", "en"),
    [
        (
            FieldType.RESIDENT_ID,
            "410702199003071230",
            "身份证号码不正确",
            "Enter a correct ID card number",
        ),
        (FieldType.USCC, "91410700MA45RT3K8B", "统一社会信用代码不正确", "social credit code"),
        (FieldType.MOBILE, "12345", "请填写 11 位手机号码", "mobile"),
        (FieldType.DATE, "2026-13-01", "请填写正确的日期", "Enter a date"),
    ],
)
def test_each_problem_reads_right_in_chinese_and_english(
    kind: FieldType, raw: str, zh: str, en: str
) -> None:
    from portal import templating

    _, problems = check_value(_field(kind), raw, "x")
    [code] = problems.values()
    for locale, expected in (("zh_Hans", zh), ("en", en)):
        token = templating._rendering_locale.set(locale)
        try:
            assert expected.lower() in templating.field_messages()[code].lower()
        finally:
            templating._rendering_locale.reset(token)
