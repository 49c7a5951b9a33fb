"""好差评 at the sandbox platform: ``POST …/ratings`` takes a rating (一事一评: one per
application or item and rater), ``POST …/ratings/{id}/rectification-rating`` takes the
citizen's verdict on a rectification; a bad rating is followed up by the responsible
department, each step a change of the rating's stream announced by a signed ``rating.*``
webhook (docs/intake-api.md §4 Rate, §8).

The follow-up is paced like the departments (one working day = ``store.speed`` seconds):
回访核实 within 0.2 of a day, then as ``store.rating_mode`` says — ``planned`` (a plan with
its deadline of ``store.rating_days`` working days, done a day later), ``rectified`` (at
once), ``explained`` (no legal basis to change) or ``reviewed`` (the department appealed;
the rating was reviewed and stands, nothing to rectify).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from integrations.sandbox.intake_api import write
from integrations.sandbox.intake_auth import bearer, missing_scope, unauthorized
from integrations.sandbox.intake_models import ApplicationRecord, IntakeClient, Json
from integrations.sandbox.intake_problems import json_response, problem
from integrations.sandbox.intake_rating_records import RatingRecord
from integrations.sandbox.intake_shapes import Problems
from integrations.sandbox.intake_store import IntakeStore
from integrations.sandbox.intake_time import days_deadline, iso, now

LEVELS = (
    *("very_satisfied", "satisfied", "basically_satisfied"),
    *("dissatisfied", "very_dissatisfied"),
)
BAD = frozenset({"dissatisfied", "very_dissatisfied"})
INDICATORS = ("overall", "efficiency", "guide_accuracy", "convenience", "usability")
REASONS = (
    *("slow", "guide_inaccurate", "repeated_materials", "hard_to_use"),
    *("result", "no_answer", "other"),
)
FIX_LEVELS = ("satisfied", "basically_satisfied", "dissatisfied")
MODES = ("planned", "rectified", "explained", "reviewed")
RATEABLE_ITEM = frozenset({"result_issued", "delivered", "not_accepted", "refused"})
RATING_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
VERIFY_DAYS = 0.2
FIX_DAYS = 0.5
NOTES = {
    "verified": "已回访评价人，核实情况属实，已转办理部门处理。",
    "verified_anonymous": "匿名评价，已调阅办件记录核实情况。",
    "rectification_planned": "已制定整改措施，将在期限内完成整改并告知评价人。",
    "rectified": "已完成整改：优化办理流程，更新办事指南，并对相关人员进行培训。",
    "explained": "经核实，本事项的办理符合法律法规规定，已向评价人解释说明。",
    "reviewed": "部门提出申诉，经复核维持评价；已说明原因，无需整改。",
}


def _store(request: Request) -> IntakeStore:
    store: IntakeStore = request.app.state.store
    return store


async def rate(request: Request) -> Response:
    path = f"/applications/{request.path_params['application_id']}/ratings"
    return await write(request, path, _rate)


async def read(request: Request) -> Response:
    """``GET …/ratings/{rating_id}``: the rating now (reconciliation), never its rater."""
    token = bearer(request)
    if token is None:
        return unauthorized(request)
    if "applications.read" not in token.scopes:
        return missing_scope(request, "applications.read")
    store = _store(request)
    application = _application(store, token.client, str(request.path_params["application_id"]))
    rating = store.ratings.get((token.client.client_id, str(request.path_params["rating_id"])))
    if application is None or rating is None or rating.application_id != application.application_id:
        return problem(request, 404, "not-found", "This client has no such rating.")
    return json_response(request, rating.to_json(), headers={"cache-control": "no-store"})


async def rate_fix(request: Request) -> Response:
    params = request.path_params
    path = f"/applications/{params['application_id']}/ratings/{params['rating_id']}"
    return await write(request, f"{path}/rectification-rating", _rate_fix)


def check_rating(body: Json) -> list[Json]:
    p = Problems()
    required = ("rating_id", "level", "channel", "rated_at")
    optional = ("item_key", "indicators", "reasons", "comment", "rater")
    p.obj(body, "", required, optional)
    p.matches(body.get("rating_id"), "/rating_id", RATING_ID, "rating_id")
    p.one_of(body.get("level"), "/level", LEVELS)
    p.one_of(body.get("channel"), "/channel", ("online",))
    p.moment(body.get("rated_at"), "/rated_at")
    for name, allowed in (("indicators", INDICATORS), ("reasons", REASONS)):
        values = body.get(name, [])
        if not isinstance(values, list):
            p.add(f"/{name}", "type", "Must be an array.")
            continue
        for n, value in enumerate(values):
            p.one_of(value, f"/{name}/{n}", allowed)
    if body.get("level") in BAD and not body.get("reasons"):
        p.add("/reasons", "required", "A bad rating names at least one reason.")
    if "other" in (body.get("reasons") or []) and not body.get("comment"):
        p.add("/comment", "required", "The reason 'other' needs the comment.")
    if body.get("comment") is not None:
        p.text(body.get("comment"), "/comment", 500)
    if body.get("rater") is not None:
        p.operator(body["rater"], "/rater")
    return p.errors


async def _rate(request: Request, store: IntakeStore, client: IntakeClient, body: Json) -> Response:
    application = _application(store, client, str(request.path_params["application_id"]))
    if application is None:
        return problem(request, 404, "not-found", "This client has no such application.")
    if errors := check_rating(body):
        detail = f"{len(errors)} problems; nothing was stored."
        return problem(request, 422, "validation-failed", detail, errors=errors)
    async with application.lock:
        refusal = _refusal(store, application, body)
        if refusal is not None:
            return problem(request, 422, refusal[0], refusal[1])
        record = _record(store, application, body)
        store.ratings[(client.client_id, record.rating_id)] = record
        if record.level in BAD:
            store.spawn(follow_up(store, application, record))
    return json_response(request, record.to_json(), 201)


def _refusal(
    store: IntakeStore, application: ApplicationRecord, body: Json
) -> tuple[str, str] | None:
    item_key = body.get("item_key")
    if item_key is None and application.state != "concluded":
        return "not-rateable", "The application is rated once it is concluded."
    if item_key is not None:
        item = application.items.get(str(item_key))
        if item is None:
            return "not-rateable", f"The application has no item {item_key!r}."
        if item.state not in RATEABLE_ITEM:
            return "not-rateable", "An item is rated once it has its result."
    rater = (body.get("rater") or {}).get("id_number")
    for (client_id, rating_id), other in store.ratings.items():
        if client_id != application.client_id or other.application_id != application.application_id:
            continue
        if rating_id == body["rating_id"]:
            return "rating-exists", "This rating_id was sent before with another key."
        if rater and other.item_key == item_key and other.rater_id_number == rater:
            return "already-rated", "一事一评: this person has rated it already."
    return None


def _record(store: IntakeStore, application: ApplicationRecord, body: Json) -> RatingRecord:
    item_key = body.get("item_key")
    if item_key is not None:
        department = application.items[str(item_key)].department_name
    else:
        lead = store.catalog.departments.get(application.thing.lead_department)
        department = lead.name.zh_Hans if lead else "“一件事”综合窗口"
    return RatingRecord(
        rating_id=str(body["rating_id"]),
        application_id=application.application_id,
        item_key=item_key,
        level=str(body["level"]),
        indicators=list(body.get("indicators") or []),
        reasons=list(body.get("reasons") or []),
        comment=body.get("comment"),
        rater=body.get("rater"),
        rated_at=str(body["rated_at"]),
        received_at=now(),
        department_name=department,
    )


async def follow_up(
    store: IntakeStore, application: ApplicationRecord, rating: RatingRecord
) -> None:
    """A bad rating's follow-up, one announced step at a time."""
    await store.pause(VERIFY_DAYS)
    mode = store.rating_mode
    async with application.lock:
        note = NOTES["verified" if rating.rater else "verified_anonymous"]
        step(store, application, rating, "verified", "verified", note=note)
    await store.pause(FIX_DAYS)
    async with application.lock:
        if mode in ("explained", "reviewed"):
            step(store, application, rating, mode, mode)
            return
        if mode == "rectified":
            step(store, application, rating, "rectified", "rectified")
            return
        due = days_deadline(now(), store.rating_days, "authority").due_at
        step(
            store,
            application,
            rating,
            "rectification_planned",
            "rectifying",
            planned_due_at=iso(due),
        )
    await store.pause(2 * FIX_DAYS)
    async with application.lock:
        step(store, application, rating, "rectified", "rectified")


def step(
    store: IntakeStore,
    application: ApplicationRecord,
    rating: RatingRecord,
    kind: str,
    state: str,
    *,
    note: str | None = None,
    **extra: Any,
) -> None:
    """One change of the rating's stream (sequence + 1), announced by ``rating.<kind>``."""
    at = iso(now())
    rating.sequence += 1
    rating.state = state
    event = {"sequence": rating.sequence, "kind": kind, "occurred_at": at}
    event |= {"by": rating.department_name, "note": note or NOTES.get(kind), **extra}
    rating.events.append(event)
    data = {"one_thing": application.thing.code, "occurred_at": at} | rating.to_json()
    store.emit(application, f"rating.{kind}", data)


async def _rate_fix(
    request: Request, store: IntakeStore, client: IntakeClient, body: Json
) -> Response:
    application = _application(store, client, str(request.path_params["application_id"]))
    rating = store.ratings.get((client.client_id, str(request.path_params["rating_id"])))
    if application is None or rating is None or rating.application_id != application.application_id:
        return problem(request, 404, "not-found", "This client has no such rating.")
    p = Problems()
    p.obj(body, "", ("level", "rated_at"), ("comment",))
    p.one_of(body.get("level"), "/level", FIX_LEVELS)
    p.moment(body.get("rated_at"), "/rated_at")
    if body.get("comment") is not None:
        p.text(body.get("comment"), "/comment", 500)
    if p.errors:
        return problem(request, 422, "validation-failed", "Nothing was stored.", errors=p.errors)
    async with application.lock:
        if rating.state != "rectified":
            detail = f"The rating is {rating.state}; only a rectified one is rated again."
            return problem(request, 422, "not-rectified", detail)
        rating.rectification_rating = {"level": body["level"], "rated_at": body["rated_at"]}
        step(store, application, rating, "closed", "closed", note=None)
    return json_response(request, rating.to_json())


def _application(
    store: IntakeStore, client: IntakeClient, application_id: str
) -> ApplicationRecord | None:
    return store.applications.get((client.client_id, application_id))


async def control(request: Request) -> Response:
    """``/sandbox/ratings``: ``follow_up`` (planned, rectified, explained, reviewed) and
    ``period_days`` (5, 7 or 15) for the ratings to come."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    store = _store(request)
    if not isinstance(body, dict):
        return JSONResponse({"error": "the body must be a JSON object"}, 400)
    mode = body.get("follow_up", store.rating_mode)
    days = body.get("period_days", store.rating_days)
    if mode not in MODES:
        return JSONResponse({"error": f"follow_up must be one of {', '.join(MODES)}"}, 400)
    if days not in (5, 7, 15):
        return JSONResponse({"error": "period_days must be 5, 7 or 15"}, 400)
    store.rating_mode, store.rating_days = mode, days
    return JSONResponse({"follow_up": mode, "period_days": days})
