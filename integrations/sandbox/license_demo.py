"""The sandbox library's demo licenses, for the demo people of people.py (the table is in
docs/licenses.md). Ids are ``lic-<owner>-<type>``, stable across restarts.

Two of them depend on the day the sandbox starts, so the demo stays true whenever it
runs: 张伟 and 李娜's daughter was born twelve days ago, and 好味道's food business licence
runs out in eighteen days (the renewal reminder). 吴磊's driving licence has been revoked.
王建国 has no retirement certificate yet: he is about to retire.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from integrations.licenses.types import license_type
from integrations.sandbox.license_authorities import DEFAULT_ISSUERS
from integrations.sandbox.license_residents import (
    RESIDENTS,
    ZHANG_HOME,
    Resident,
    id_card_valid_until,
    years_later,
)
from integrations.sandbox.license_store import USCC, Named, StoredLicense
from integrations.sandbox.people import person_by_sub
from integrations.sandbox.registry import HAOWEIDAO_RECORD

FIRST_SERIAL = 2400001
NEWBORN_AGE_DAYS = 12
FOOD_LICENSE_DAYS_LEFT = 18
# sub, card number, bank, issued on
SOCIAL_SECURITY = (
    ("zhang-wei", "H03518276", "中国工商银行新乡分行", date(2019, 3, 12)),
    ("li-na", "H05627183", "中国建设银行新乡分行", date(2020, 7, 2)),
    ("wang-jianguo", "A67219045", "中国农业银行新乡分行", date(2018, 11, 20)),
    ("zhao-min", "H12840376", "中国银行新乡分行", date(2019, 5, 28)),
    ("liu-qiang", "A59301748", "中原银行新乡分行", date(2020, 1, 9)),
    ("chen-jing", "H20473615", "中国邮政储蓄银行新乡市分行", date(2021, 4, 16)),
)


def demo_licenses(today: date) -> list[StoredLicense]:
    drafts = [
        *(_id_card(resident) for resident in RESIDENTS),
        *(_household(resident) for resident in RESIDENTS),
        *_marriage(),
        _birth(today - timedelta(days=NEWBORN_AGE_DAYS)),
        *(_social_security(*card) for card in SOCIAL_SECURITY),
        _discharge(),
        _disability(),
        _degree(),
        _driving("zhou-jie", date(2024, 7, 20)),
        _driving("wu-lei", date(2022, 3, 8), status="revoked"),
        _business(),
        _food_business(today + timedelta(days=FOOD_LICENSE_DAYS_LEFT)),
        _real_estate(),
    ]
    return [replace(draft, serial=f"{FIRST_SERIAL + i:07d}") for i, draft in enumerate(drafts)]


def _draft(
    kind: str,
    owner: str,
    holder: Named,
    issued_on: date,
    data: dict[str, str],
    *,
    number: str,
    valid_until: date | None = None,
    valid_from: date | None = None,
    parties: tuple[Named, ...] = (),
    status: str = "valid",
) -> StoredLicense:
    return StoredLicense(
        id=f"lic-{owner}-{kind.replace('_', '-')}",
        type=license_type(kind),
        serial="",
        number=number,
        holder=holder,
        issuer=DEFAULT_ISSUERS[kind],
        issued_on=issued_on,
        valid_from=valid_from or issued_on,
        valid_until=valid_until,
        data=data,
        parties=parties,
        status=status,
    )


def _holder(sub: str, role: str = "holder") -> Named:
    person = person_by_sub(sub)
    if person is None:
        raise LookupError(sub)
    return Named(person.name, person.id_number, role=role)


def _who(sub: str) -> dict[str, str]:
    holder = _holder(sub)
    return {"name": holder.name, "id_number": holder.code or ""}


def _text(day: date | None) -> str:
    return day.isoformat() if day else "长期"


def _id_card(resident: Resident) -> StoredLicense:
    issued_on = resident.id_card_issued_on
    until = id_card_valid_until(resident.birth_date, issued_on)
    data = _who(resident.sub) | {"sex": resident.sex, "ethnicity": resident.ethnicity}
    data |= {"birth_date": resident.birth_date.isoformat(), "address": resident.address}
    data["valid_until"] = _text(until)
    number = resident.person.id_number
    holder = _holder(resident.sub)
    return _draft(
        "resident_id_card", resident.sub, holder, issued_on, data, number=number, valid_until=until
    )


def _household(resident: Resident) -> StoredLicense:
    data = _who(resident.sub) | {"household_head": resident.head, "address": resident.address}
    data["relationship"] = resident.relationship
    issued_on = date(2020, 11, 1)  # the booklets were re-issued after the 7th census
    return _draft(
        "household_register",
        resident.sub,
        _holder(resident.sub),
        issued_on,
        data,
        number=resident.household_number,
    )


def _marriage() -> list[StoredLicense]:
    registered, number = date(2021, 5, 20), "J410711-2021-000520"
    copies = []
    for sub, spouse in (("zhang-wei", "li-na"), ("li-na", "zhang-wei")):
        me, other = _holder(sub), _holder(spouse)
        data = {"holder_name": me.name, "holder_id_number": me.code or ""}
        data |= {"spouse_name": other.name, "spouse_id_number": other.code or ""}
        data["registration_date"] = registered.isoformat()
        # Each spouse holds a copy; the other is in ``data``, not a party, so that neither
        # copy turns up in the other spouse's list.
        copies.append(_draft("marriage_certificate", sub, me, registered, data, number=number))
    return copies


def _birth(born: date) -> StoredLicense:
    mother, father = _holder("li-na", "mother"), _holder("zhang-wei", "father")
    data = {"child_name": "张语桐", "child_sex": "女", "birth_date": born.isoformat()}
    data["birth_place"] = "河南省新乡市卫滨区"
    data |= {"mother_name": mother.name, "mother_id_number": mother.code or ""}
    data |= {"father_name": father.name, "father_id_number": father.code or ""}
    child = Named("张语桐", None)  # no ID number until the household registration
    return _draft(
        "birth_medical_certificate",
        "zhang-yutong",
        child,
        born + timedelta(days=2),
        data,
        number="Y410982317",
        parties=(mother, father),
    )


def _social_security(sub: str, card: str, bank: str, issued_on: date) -> StoredLicense:
    data = _who(sub) | {"card_number": card, "bank": bank}
    return _draft(
        "social_security_card",
        sub,
        _holder(sub),
        issued_on,
        data,
        number=card,
        valid_until=years_later(issued_on, 10),
    )


def _discharge() -> StoredLicense:
    data = _who("liu-qiang") | {"enlisted_on": "2003-12-10", "discharged_on": "2015-12-01"}
    data["unit"] = "中国人民解放军某部"
    return _draft(
        "discharge_certificate",
        "liu-qiang",
        _holder("liu-qiang"),
        date(2019, 6, 12),
        data,
        number="TY2015410721017",
    )


def _disability() -> StoredLicense:
    who, until = _who("zhao-min"), date(2029, 4, 10)
    data = who | {"category": "肢体残疾", "grade": "三级", "valid_until": until.isoformat()}
    # 残疾人证号: the ID number, then category (4 limb) and grade (3).
    return _draft(
        "disability_certificate",
        "zhao-min",
        _holder("zhao-min"),
        date(2019, 4, 10),
        data,
        number=who["id_number"] + "43",
        valid_until=until,
    )


def _degree() -> StoredLicense:
    data = _who("chen-jing") | {"school": "河南师范大学", "major": "汉语言文学"}
    data |= {"graduated_on": "2009-06-30", "level": "本科"}
    return _draft(
        "degree_certificate",
        "chen-jing",
        _holder("chen-jing"),
        date(2009, 6, 30),
        data,
        number="104761200905003187",
    )


def _driving(sub: str, issued_on: date, status: str = "valid") -> StoredLicense:
    until = years_later(issued_on, 10)
    data = _who(sub) | {"class": "C1", "valid_until": until.isoformat()}
    return _draft(
        "driving_license",
        sub,
        _holder(sub),
        issued_on,
        data,
        number=data["id_number"],
        valid_until=until,
        status=status,
    )


def _company() -> Named:
    return Named(HAOWEIDAO_RECORD.name, HAOWEIDAO_RECORD.uscc, USCC)


def _business() -> StoredLicense:
    record = HAOWEIDAO_RECORD
    data = {"enterprise_name": record.name, "uscc": record.uscc}
    data |= {"legal_representative": record.legal_representative, "enterprise_type": record.type}
    data |= {"registered_capital": record.registered_capital, "address": record.address}
    data |= {"business_scope": record.business_scope}
    data["established_on"] = record.established_on.isoformat()
    return _draft(
        "business_license", "haoweidao", _company(), record.established_on, data, number=record.uscc
    )


def _food_business(until: date) -> StoredLicense:
    record, number = HAOWEIDAO_RECORD, "JY24107110003476"
    data = {"enterprise_name": record.name, "uscc": record.uscc, "license_number": number}
    data |= {"premises": record.address, "business_items": "热食类食品制售；冷食类食品制售"}
    data["valid_until"] = until.isoformat()
    valid_from = years_later(until, -5) + timedelta(days=1)
    return _draft(
        "food_business_license",
        "haoweidao",
        _company(),
        valid_from,
        data,
        number=number,
        valid_until=until,
    )


def _real_estate() -> StoredLicense:
    number = "豫（2022）新乡市不动产权第 0031475 号"
    data = _who("zhang-wei") | {"location": ZHANG_HOME.removeprefix("河南省")}
    data |= {"area": "96.58 平方米", "usage": "城镇住宅用地/住宅", "certificate_number": number}
    data["owner"] = data.pop("name")
    return _draft(
        "real_estate_certificate",
        "zhang-wei",
        _holder("zhang-wei"),
        date(2022, 8, 16),
        data,
        number=number,
    )
