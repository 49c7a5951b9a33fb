"""The one-thing counter (“一件事”综合受理窗口), simulated: it takes the package, reviews it
(收件审查) after a twentieth of a working day, and either issues the receipt and dispatches
every item to its department (``application.received``) or one notice listing everything to
supplement (``application.supplement_requested``).

The review fetches every uploaded file it has not checked yet, with a plain GET and no
credentials, and compares size and SHA-256; a file it cannot get or that does not match is a
``file_unavailable`` entry of the notice, never a 4xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

import httpx2

from integrations.sandbox.intake_departments import department
from integrations.sandbox.intake_events import announce, move
from integrations.sandbox.intake_models import (
    ApplicationRecord,
    Entry,
    IntakeClient,
    ItemRecord,
    Json,
    OwedMaterial,
)
from integrations.sandbox.intake_notices import (
    file_entry,
    intake_notice,
    scenario_entries,
    tolerated_notice,
)
from integrations.sandbox.intake_store import IntakeStore
from integrations.sandbox.intake_time import days_deadline, now, review_deadline
from integrations.tls import shared_context

log = logging.getLogger(__name__)

REVIEW_DAYS = 0.05
FETCH_TIMEOUT = 15.0
FETCH_RETRIES = (0.5, 1.0, 2.0, 4.0, 8.0, 0.0)  # waits after each failed try: about 15 s


def take_package(store: IntakeStore, client: IntakeClient, body: Json) -> ApplicationRecord:
    """The application as the ``201`` shows it: under review, every stream at 0."""
    catalog, at = store.catalog, now()
    thing = catalog.things[body["one_thing"]]
    keys = [str(entry["key"]) for entry in body["items"]]
    configs, items = {item.key: item for item in thing.items}, {}
    for config in (configs[key] for key in keys):  # in the order submitted
        department_name = catalog.departments[config.department].name.zh_Hans
        requires = [key for key in config.requires if key in keys]
        items[config.key] = ItemRecord(
            config.key,
            config.name.zh_Hans,
            config.implementation_code,
            config.department,
            department_name,
            config.promised_days,
            requires,
            at,
        )
    subject = body["subject"]
    scenario = store.scenarios.get(subject.get("id_number") or subject.get("uscc"), "approve")
    return ApplicationRecord(
        client.client_id, thing, body, items, at, review_deadline(at), scenario
    )


async def review(store: IntakeStore, application: ApplicationRecord) -> None:
    await store.pause(REVIEW_DAYS)
    broken = await _unusable_files(application)
    async with application.lock:
        if application.state != "under_review":
            return  # withdrawn meanwhile
        at = now()
        fields: list[Entry] = []
        materials = [
            file_entry(application, m) for m in application.thing.materials if m.key in broken
        ]
        scenario = application.scenario
        if scenario == "supplement_intake" and scenario not in application.scenarios_done:
            application.scenarios_done.add(scenario)  # once: the next review lets it through
            fields, asked = scenario_entries(application)
            materials += [entry for entry in asked if entry.key not in broken]
        if fields or materials:
            notice = intake_notice(application, at, fields, materials)
            application.notices.append(notice)
            application.state, application.deadline = "supplement_requested", notice.deadline
            announce(store, application, "application.supplement_requested", at, notice=notice)
            return
        _receive(store, application)


def _receive(store: IntakeStore, application: ApplicationRecord) -> None:
    at = now()
    application.receipt_number = f"SJ-410700-{at:%Y%m%d}-{store.next_number():06d}"
    application.state, application.received_at, application.deadline = "in_progress", at, None
    notice = tolerated_notice(application, at)
    if notice is not None:
        application.notices.append(notice)
    dispatched = [item for item in application.items.values() if item.state == "submitted"]
    for item in dispatched:
        owed = [
            OwedMaterial(entry.key, tolerated.notice_id)
            for tolerated in ([notice] if notice else [])
            for entry in tolerated.materials
            if item.key in entry.items
        ]
        deadline = days_deadline(at, 1, "authority")
        move(application, item, "dispatched", at, deadline=deadline, owed=owed)
    announce(store, application, "application.received", at, items=dispatched, notice=notice)
    for item in dispatched:
        store.spawn(department(store, application, item))


async def _unusable_files(application: ApplicationRecord) -> set[str]:
    """Keys of the uploaded materials with a file that cannot be fetched or does not match."""
    broken: set[str] = set()
    for key, provision in list(application.materials.items()):
        for file in provision.get("files", []) if provision.get("mode") == "upload" else []:
            if (file["url"], file["sha256"]) in application.verified_files:
                continue
            if await _matches(file):
                application.verified_files.add((file["url"], file["sha256"]))
            else:
                broken.add(key)
    return broken


async def _matches(file: Json) -> bool:
    """Fetched, the file is the one described. A client that answers 5xx or not at all is
    asked again a few times first (a restart on its side must not cost the citizen a
    supplement); a 404 or a different file is final."""
    answer = None
    for wait in FETCH_RETRIES:
        try:
            async with httpx2.AsyncClient(
                timeout=FETCH_TIMEOUT, follow_redirects=True, verify=shared_context()
            ) as http:
                answer = await http.get(file["url"])
        except httpx2.HTTPError as exc:
            log.info("file %s unreachable: %s", file["url"], exc)
            answer = None
        if answer is not None and answer.status_code < 500:
            break
        await asyncio.sleep(wait)
    if answer is None:
        return False
    body = answer.content
    digest = hashlib.sha256(body).hexdigest()
    return answer.status_code == 200 and len(body) == file["size"] and digest == file["sha256"]
