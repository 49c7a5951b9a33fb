"""What an approved item produces (``Result``): an e-license issued into the sandbox's
e-license library over its real API (``POST /licenses``), a payment, or a record.

The license's holder is the person the result is about: the child when the form names one
(``child_name``; a newborn has no ID number yet, so name only, with the applicant as
``guardian``), otherwise the subject. Its data fields come from the form values of the same
key, else from values derived from the application, never empty: the library refuses those.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import httpx2
from stdnum.cn import ric

from integrations.licenses.types import license_type
from integrations.sandbox.intake_models import ApplicationRecord, ItemRecord, Json
from integrations.sandbox.intake_store import IntakeStore
from integrations.sandbox.intake_time import iso, now
from integrations.sandbox.license_authorities import DEFAULT_ISSUERS
from integrations.tls import shared_context
from portal.catalog.loader import Catalog
from portal.catalog.schema import FieldType, Item, ItemType
from portal.forms import divisions

log = logging.getLogger(__name__)

PHYSICAL = frozenset({"pickup", "mail"})
DEFAULT_BANK = "中国工商银行新乡分行"


async def produce(store: IntakeStore, application: ApplicationRecord, item: ItemRecord) -> Json:
    config = application.config(item.key)
    name = config.result.name.zh_Hans
    kind_key = config.result.license_type
    license = await issue_license(store, application, config) if kind_key else None
    result: Json = {"kind": "record", "name": name, "issued_at": iso(now())}
    result |= {"physical": bool(license) and bool(PHYSICAL & set(config.result.delivery))}
    result |= {"license": license, "payment": None, "record": None}
    if license is not None:
        result["kind"] = "license"
    elif config.type == ItemType.PAYMENT:
        result |= {"kind": "payment", "payment": _payment(application, config)}
    else:
        number = (item.acceptance or {}).get("case_number") or f"DJ{secrets.randbelow(10**8):08d}"
        description = f"已办理{config.name.zh_Hans}，结果已同步到您的办件记录。"
        result["record"] = {"number": f"{number}-01", "description": description}
    return result


async def issue_license(store: IntakeStore, application: ApplicationRecord, config: Item) -> Json:
    """Issue the result into the library, retrying (the item stays approved) until it
    answers 201, as a platform would."""
    body = license_request(application, config, store.catalog)
    wait = 0.5
    while True:
        try:
            async with httpx2.AsyncClient(timeout=15, verify=shared_context()) as http:
                answer = await http.post(
                    f"{store.licenses_api}/licenses",
                    json=body,
                    headers={"authorization": f"Bearer {store.api_key}"},
                )
            if answer.status_code == 201:
                return _issued(answer.json())
            log.error("license library refused %s: %s", config.key, answer.text)
        except httpx2.HTTPError as exc:
            log.warning("license library unreachable for %s: %s", config.key, exc)
        await asyncio.sleep(wait)
        wait = min(wait * 2, 10.0)


def license_request(application: ApplicationRecord, config: Item, catalog: Catalog) -> Json:
    """The ``POST /licenses`` body; the item's department issues it when the library has
    no usual issuer for the type."""
    kind = license_type(str(config.result.license_type))
    subject, form = application.request["subject"], application.form
    values = {key: text for key, raw in form.items() if (text := display(application, key, raw))}
    parties: list[Json] = []
    if values.get("child_name"):
        holder = {"name": values["child_name"], "code": None, "code_type": "111"}
        guardian = {"role": "guardian", "name": subject["name"], "code": subject.get("id_number")}
        parties = [guardian | {"code_type": "111"}] if subject["kind"] == "person" else []
    elif subject["kind"] == "person":
        holder = {"name": subject["name"], "code": subject["id_number"], "code_type": "111"}
    else:
        holder = {"name": subject["name"], "code": subject["uscc"], "code_type": "001"}
    derived = _derived(application, holder, values)
    fallback = f"见办件 {application.receipt_number or application.application_id}"
    data = {
        field: values.get(field) or values.get(f"child_{field}") or derived.get(field) or fallback
        for field in kind.fields
    }
    body = {"type": kind.key, "holder": holder, "data": data, "related_parties": parties}
    if kind.key not in DEFAULT_ISSUERS:
        department = catalog.departments[config.department]
        body["issuer"] = {"name": department.name.zh_Hans, "code": department.uscc}
    return body


def display(application: ApplicationRecord, key: str, raw: Any) -> str:
    """A form value as a license writes it: a choice by its label, an address as text."""
    field = next((f for f in application.thing.fields if f.key == key), None)
    if field is not None and field.type == FieldType.CHOICE:
        label = next((c.label.zh_Hans for c in field.choices if c.value == raw), None)
        return label or str(raw)
    if isinstance(raw, dict):
        codes = [str(raw.get(part, "")) for part in ("province", "city", "county")]
        return str(raw.get("text") or divisions.full_name(*codes) + str(raw.get("street", "")))
    if isinstance(raw, list):
        return "、".join(str(v) for v in raw if isinstance(v, str))
    return "" if raw is None else str(raw)


def _derived(
    application: ApplicationRecord, holder: Json, values: dict[str, str]
) -> dict[str, str]:
    subject = application.request["subject"]
    applicant = (values.get("applicant_name", subject["name"]), values.get("applicant_id_number"))
    spouse = (values.get("spouse_name"), values.get("spouse_id_number"))
    mother, father = (
        (applicant, spouse) if values.get("applicant_role") == "母亲" else (spouse, applicant)
    )
    address = next((v for k, v in values.items() if k.endswith("address")), "")
    id_number = holder["code"] or _child_id_number(application)
    derived = {
        "name": holder["name"],
        "holder_name": holder["name"],
        "owner": holder["name"],
        "enterprise_name": subject["name"],
        "id_number": id_number,
        "holder_id_number": id_number,
        "uscc": subject.get("uscc", ""),
        "mother_name": mother[0] or "",
        "mother_id_number": mother[1] or "",
        "father_name": father[0] or "",
        "father_id_number": father[1] or "",
        "address": address,
        "relationship": values.get("relation_to_head", ""),
        "card_number": f"H{secrets.randbelow(10**8):08d}",
        "bank": values.get("bank_name", DEFAULT_BANK),
        "valid_until": "长期",
    }
    return {key: value for key, value in derived.items() if value}


def _child_id_number(application: ApplicationRecord) -> str:
    """The citizen ID number a birth registration assigns: the household's county, the
    birth date, a serial whose parity is the sex, and the check digit."""
    form = application.form
    county = str((form.get("household_address") or {}).get("county") or "410711")
    born = str(form.get("child_birth_date") or now().date().isoformat()).replace("-", "")
    serial = secrets.randbelow(500) * 2 + (1 if form.get("child_sex") == "male" else 0)
    first = f"{county}{born}{serial:03d}"
    return first + str(ric.calc_check_digit(first))


def _payment(application: ApplicationRecord, config: Item) -> Json:
    fields = {f.key: f for f in application.thing.fields if f.key in config.fields}
    money = [application.form.get(k) for k, f in fields.items() if f.type == FieldType.MONEY]
    account = str(application.form.get("bank_account") or "0000")
    payment = {"amount": next((str(m) for m in money if m), "0.00"), "currency": "CNY"}
    payment |= {"paid_on": now().date().isoformat(), "account_last4": account[-4:]}
    return payment | {"bank_name": str(application.form.get("bank_name") or DEFAULT_BANK)}


def _issued(library: Json) -> Json:
    """The library's license as the contract's ``IssuedLicense``."""
    return {
        "identifier": library["identifier"],
        "type": library["type"],
        "type_code": library["type_code"],
        "name": library["name"],
        "number": library["number"],
        "holder": {
            "name": library["holder_name"],
            "code": library["holder_code"],
            "code_type": library["holder_code_type"],
        },
        "issuer": {"name": library["issuer_name"], "code": library["issuer_code"]},
        "issued_on": library["issued_on"],
        "valid_from": library["valid_from"],
        "valid_until": library["valid_until"],
    }
