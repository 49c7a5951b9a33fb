"""The submission package of docs/intake-api.md §4, built once at submission from the
draft, the actor and the catalog; the outbox keeps it byte for byte for every retry.

Personal data travel in it (ID numbers, mobiles): the outbox stores it sealed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from portal import clock
from portal.applications import readiness
from portal.applications.models import Application, Upload
from portal.catalog.schema import Item, Material, OneThing
from portal.forms import divisions

FILE_URL_DAYS = 30  # the contract asks for at least 7
PICKUP_PLACE = "新乡市政务服务中心“一件事”综合窗口"
DELIVERY_MODES = ("per_item", "unified")


@dataclass(frozen=True)
class Party:
    """The subject or the operator, resolved (ID numbers decrypted) for the package."""

    name: str
    id_number: str | None = None
    uscc: str | None = None
    mobile: str | None = None


@dataclass(frozen=True)
class Operator:
    person: Party
    role: str  # self | legal_representative | agent
    level: str
    authorisation: dict[str, Any] | None = None


def canonical(body: Mapping[str, Any]) -> bytes:
    """RFC 8785 for our bodies (no floats, ASCII keys): the bytes the outbox keeps."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def file_token(secret: str, upload_id: str, expires: int) -> str:
    mac = hmac.new(secret.encode(), f"intake-file:{upload_id}:{expires}".encode(), hashlib.sha256)
    return f"{upload_id}.{expires}.{mac.hexdigest()[:32]}"


def read_file_token(secret: str, token: str) -> str | None:
    """The upload id when ``token`` is ours and not expired."""
    upload_id, _, rest = token.partition(".")
    expires, _, _mac = rest.partition(".")
    if not expires.isdigit() or int(expires) < time.time():
        return None
    expected = file_token(secret, upload_id, int(expires))
    return upload_id if hmac.compare_digest(expected, token) else None


def submission(
    application: Application,
    thing: OneThing,
    items: Sequence[Item],
    materials: Sequence[Material],
    uploads: Sequence[Upload],
    subject: Party,
    operator: Operator,
    file_url: str,
    secret: str,
) -> dict[str, Any]:
    values = application.values
    return {
        "application_id": application.public_id,
        "submission_number": application.submission_number,
        "one_thing": thing.code,
        "submitted_at": _iso(application.submitted_at),
        "subject": _subject(application.subject_kind, subject),
        "operator": operator_json(operator),
        "contact": {"name": operator.person.name, "mobile": _mobile(values, operator)},
        "answers": dict(application.answers),
        "items": [
            {"key": i.key, "implementation_code": i.implementation_code, "department": i.department}
            for i in items
        ],
        "form": {key: form_value(value) for key, value in values.items()},
        "materials": {
            m.key: material_json(m, application.materials.get(m.key, {}), uploads, file_url, secret)
            for m in materials
        },
        "delivery": application.delivery,
    }


def operator_json(operator: Operator) -> dict[str, Any]:
    found = {
        "name": operator.person.name,
        "id_number": operator.person.id_number,
        "role": operator.role,
        "assurance_level": operator.level,
        "authorisation": operator.authorisation,
    }
    # Optional in the contract, but not null: someone with no mobile on record has none.
    return found | ({"mobile": operator.person.mobile} if operator.person.mobile else {})


def delivery(values: Mapping[str, Any], mode: str, recipient: Party) -> dict[str, Any]:
    method = "mail" if values.get("delivery_method") == "mail" else "pickup"
    address = values.get("delivery_address") if method == "mail" else None
    return {
        "mode": mode if mode in DELIVERY_MODES else "per_item",
        "method": method,
        "address": form_value(address) if address else None,
        "recipient": {"name": recipient.name, "mobile": recipient.mobile}
        if method == "mail"
        else None,
        "pickup_place": PICKUP_PLACE if method == "pickup" else None,
    }


def material_json(
    material: Material,
    state: Mapping[str, Any],
    uploads: Sequence[Upload],
    file_url: str,
    secret: str,
) -> dict[str, Any]:
    mode = state.get("mode")
    if mode == "license":
        return {
            "mode": "license",
            "consent": bool(state.get("consent")),
            "licenses": [
                {
                    "identifier": state.get("identifier"),
                    "type": state.get("type") or material.license_type,
                }
                | ({"holder_name": state["holder_name"]} if state.get("holder_name") else {})
            ],
        }
    if mode == "tolerate":
        text = material.commitment.zh_Hans if material.commitment else ""
        return {
            "mode": "tolerate",
            "commitment": {
                "text": text,
                "language": "zh-Hans",
                "signed_by": state.get("signed_by"),
                "signed_at": state.get("signed_at"),
            },
        }
    expires = int(time.time()) + FILE_URL_DAYS * 86400
    return {
        "mode": "upload",
        "files": [
            {
                "id": u.public_id,
                "url": f"{file_url}/{file_token(secret, u.public_id, expires)}",
                "sha256": u.sha256,
                "content_type": u.content_type,
                "size": u.size,
                "name": u.original_name or u.public_id,
            }
            for u in uploads
            if u.material_key == material.key
        ],
    }


def _subject(kind: str, subject: Party) -> dict[str, Any]:
    if kind == "enterprise":
        return {"kind": "enterprise", "name": subject.name, "uscc": subject.uscc}
    return {"kind": "person", "name": subject.name, "id_number": subject.id_number}


def _mobile(values: Mapping[str, Any], operator: Operator) -> str | None:
    signer = readiness.Signer(operator.person.name, operator.person.mobile)
    return readiness.contact_mobile(values, signer)


def form_value(value: Any) -> Any:
    """Form values as the contract types them: an address gets its full text."""
    if isinstance(value, dict) and {"province", "city", "county"} <= value.keys():
        codes = (str(value["province"]), str(value["city"]), str(value["county"]))
        text = divisions.full_name(*codes) + str(value.get("street", ""))
        return {**value, "text": value.get("text") or text}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _iso(moment: datetime) -> str:
    return clock.china(moment).isoformat(timespec="seconds")
