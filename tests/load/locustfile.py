"""Citizens browsing, applying, tracking and rating, each kind paced to an offered rate.

Run by tests/load/run.py as its own process (`locust --headless`; gevent must not be imported
into pytest). The rates come from the environment the runner sets:
LOAD_RATE_{BROWSE,APPLY,TRACK,RATE} (visits per second), LOAD_SANDBOX (the identity
provider's base URL) and LOAD_TIMINGS (where the per-kind response times are written at the
end). Each kind is its own user class with a fixed number of users, each starting one visit
every users/rate seconds at its own moment of that period (``Visitor.wait_time``): the offered
load is the target rate, evenly spread, whatever the response times, unless a visit takes
longer than its period (the runner reports the achieved rate, so that shows).

Every request is named "<kind>: <page>" and checked: any status but the expected one is a
failure, and the visit stops there. Requests to the sandbox's identity provider are named
"idp: …" and kept out of the portal's figures.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, events, task
from locust.clients import HttpSession
from locust.exception import RescheduleTask
from PIL import Image

from tests.applications.formdata import form_values
from tests.load.pages import CSRF, HIDDEN, LICENSE, TYPED
from tests.load.peak import users_for

THINGS = sorted(
    p.stem
    for p in (Path(__file__).resolve().parents[2] / "portal" / "catalog" / "things").glob("*.yaml")
)
SEARCHES = ("出生", "xsecs", "退休", "tuixiu", "开办企业", "医保", "户口", "餐饮", "身后", "公积金")
# (query string for the first page, elder-mode cookie): zh_Hans by default, the other three
# languages (ug right-to-left), and 长辈版 with WeChat's 关怀模式 font scale.
PROFILES = (
    ("", False),
    ("", False),
    ("?lang=ug", False),
    ("?lang=en", False),
    ("?lang=zh_Hant", False),
    ("?font_scale=1.4", True),
)
# The newborn's parents: the demo people whose licences the newborn one-thing uses.
PARENTS = ("li-na", "zhang-wei")
NAMES = {"li-na": "李娜", "zhang-wei": "张伟"}

# Submitted applications by person (progress paths): tracked at random, rated once each.
submitted: dict[str, list[str]] = defaultdict(list)
to_rate: dict[str, list[str]] = defaultdict(list)
timings: dict[str, list[float]] = defaultdict(list)
server_errors: dict[str, int] = defaultdict(int)


def _rate(kind: str) -> float:
    return float(os.environ.get(f"LOAD_RATE_{kind.upper()}", "0"))


def _users(kind: str) -> int:
    return users_for(kind, _rate(kind))


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (358, 441), "white").save(out, "JPEG")
    return out.getvalue()


PHOTO = _photo()


@events.request.add_listener
def _record(name: str, response_time: float, response: Any = None, **_: Any) -> None:
    kind = name.split(":", 1)[0]
    timings[kind].append(response_time)
    if response is not None and getattr(response, "status_code", 0) >= 500:
        server_errors[kind] += 1


@events.quitting.add_listener
def _write(**_: Any) -> None:
    target = os.environ.get("LOAD_TIMINGS")
    if target:
        Path(target).write_text(
            json.dumps({"timings_ms": timings, "server_errors": server_errors}) + "\n"
        )


class Visitor(HttpUser):
    abstract = True
    kind = ""
    period = 1.0  # seconds from the start of one of a user's visits to the next: users ÷ rate
    next_visit = 0.0

    def on_start(self) -> None:
        """Each user's first visit at a random moment of its period, as people arrive."""
        gevent.sleep(random.uniform(0, self.period))
        self.next_visit = time.perf_counter()

    def wait_time(self) -> float:
        """One visit per period, each user keeping its own moment of it (a visit longer than
        the period starts the next at once, from a new moment). Not locust's
        ``constant_throughput``: it counts the ``on_start`` sleep as the first visit's time, so
        every user's second visit came one period after the spawn, all in step again. At 3×
        the 45 applicants applied in the same half-minute of every minute and the machine
        idled in the other (docs/load.md, "Arrivals in step")."""
        now = time.perf_counter()
        self.next_visit = max(self.next_visit + self.period, now)
        return self.next_visit - now

    def call(
        self,
        method: str,
        path: str,
        name: str,
        expect: int,
        *,
        contains: str = "",
        **kwargs: Any,
    ) -> Any:
        """One request; anything but ``expect`` (and ``contains`` in the body) fails it and
        ends the visit."""
        with self.client.request(
            method, path, name=name, allow_redirects=False, catch_response=True, **kwargs
        ) as response:
            if response.status_code != expect:
                why = f" ({response.error!r})" if response.error else ""
                response.failure(f"{response.status_code}{why}, wanted {expect}")
                raise RescheduleTask()
            if contains and contains not in response.text:
                response.failure(f"{contains!r} not in the answer")
                raise RescheduleTask()
            return response

    def post_form(
        self, path: str, name: str, data: dict[str, Any] | None = None, files: Any = None
    ) -> str:
        """GET a form page, POST it back as a browser would with ``data`` changed; returns
        where the portal sent us."""
        page = self.call("GET", path, name, 200)
        shown = {
            k: v for k, v in form_values(page.text).items() if k.startswith(("f.", "m.", "_shown"))
        }
        body = {**shown, "csrf_token": _csrf(page.text), **(data or {})}
        done = self.call("POST", path, name + " (post)", 303, data=body, files=files)
        return str(done.headers["location"])

    def sign_in(self, person: str, next_path: str) -> None:
        """The real OIDC flow: the portal → the sandbox's authorize page (its own cookies) →
        the portal's callback, which sets the session cookie."""
        self.client.cookies.clear()
        login = self.call("GET", f"/auth/login?next={next_path}", "sign-in: start", 302)
        authorize = login.headers["location"]
        provider = HttpSession(
            base_url=os.environ["LOAD_SANDBOX"],
            request_event=self.environment.events.request,
            user=self,
        )
        with provider.get(authorize, name="idp: authorize", catch_response=True) as page:
            if page.status_code != 200:
                page.failure(f"{page.status_code}")
                raise RescheduleTask()
        form = {**dict(HIDDEN.findall(page.text)), "person": person, "level": "L3"}
        with provider.post(
            authorize.split("?")[0],
            data={**form, "decision": "allow"},
            name="idp: allow",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"{answer.status_code}")
                raise RescheduleTask()
        self.call("GET", answer.headers["location"], "sign-in: callback", 303)


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    return match.group(1) if match else ""


class Browser(Visitor):
    """Anyone, not signed in: home, a search (the full page, then as htmx types), a guide."""

    kind = "browse"
    fixed_count = _users("browse")
    period = max(fixed_count, 1) / (_rate("browse") or 1)

    @task
    def visit(self) -> None:
        self.client.cookies.clear()
        query, elder = random.choice(PROFILES)
        if elder:
            self.client.cookies.set("elder", "1")
        self.call("GET", "/" + query, "browse: home", 200)
        words = random.choice(SEARCHES)
        self.call("GET", "/search", "browse: search", 200, params={"q": words})
        headers = {"HX-Request": "true"}
        self.call(
            "GET", "/search", "browse: search (htmx)", 200, params={"q": words}, headers=headers
        )
        self.call("GET", f"/things/{random.choice(THINGS)}", "browse: guide", 200)


class Applicant(Visitor):
    """A parent signs in, fills the newborn one-thing through every page (situation
    questions, sections, materials with an upload and e-licences) and submits it."""

    kind = "apply"
    fixed_count = _users("apply")
    period = max(fixed_count, 1) / (_rate("apply") or 1)

    @task
    def visit(self) -> None:
        person = random.choice(PARENTS)
        self.sign_in(person, "/things/newborn/apply")
        path = self.post_form("/things/newborn/apply", "apply: start")
        for answer in ("yes", "no", "no"):
            path = self.post_form(path, "apply: question", {"answer": answer})
        base = path.removesuffix("/result")
        section = self.post_form(f"{base}/result", "apply: result")
        while "/s/" in section:
            section = self.post_form(section, "apply: section", TYPED)
        page = self.call("GET", section, "apply: materials", 200)
        shown = {k: v for k, v in form_values(page.text).items() if k.startswith(("m.", "_shown"))}
        data: dict[str, Any] = {**shown, "csrf_token": _csrf(page.text)}
        data["m.child_photo.mode"] = "upload"
        for key, license_id in LICENSE.findall(page.text):
            data |= {f"m.{key}.mode": "license", f"m.{key}.license": license_id}
            data[f"m.{key}.consent"] = "yes"
        files = {"m.child_photo.files": ("photo.jpg", PHOTO, "image/jpeg")}
        done = self.call("POST", section, "apply: materials (post)", 303, data=data, files=files)
        check = self.call("GET", done.headers["location"], "apply: check", 200)
        sent = self.call(
            "POST",
            f"{base}/submit",
            "apply: submit",
            303,
            data={"csrf_token": _csrf(check.text), "delivery_mode": "per_item"},
        )
        progress = str(sent.headers["location"]).split("?")[0]
        self.call("GET", sent.headers["location"], "apply: confirmation", 200)
        submitted[person].append(progress)
        if random.random() < 0.5:  # half the applicants come back to rate
            to_rate[person].append(progress)


class SignedIn(Visitor):
    abstract = True
    person = ""

    def on_start(self) -> None:
        super().on_start()
        self.person = random.choice(PARENTS)
        self.sign_in(self.person, "/applications")


class Tracker(SignedIn):
    """A parent looks at their applications, opens one's progress and leaves it open (htmx
    polls it every 5 s)."""

    kind = "track"
    fixed_count = _users("track")
    period = max(fixed_count, 1) / (_rate("track") or 1)

    @task
    def visit(self) -> None:
        name = NAMES[self.person]
        self.call("GET", "/applications", "track: my applications", 200, contains=name)
        mine = submitted[self.person]
        if not mine:
            return
        progress = random.choice(mine)
        self.call("GET", progress, "track: progress", 200)
        for _ in range(2):
            headers = {"HX-Request": "true"}
            self.call("GET", progress, "track: progress (htmx poll)", 200, headers=headers)


class Rater(SignedIn):
    """A parent comes back to a concluded application and rates it: most are content, some
    are not and give their reasons (a bad rating starts the platform's follow-up)."""

    kind = "rate"
    fixed_count = _users("rate")
    period = max(fixed_count, 1) / (_rate("rate") or 1)

    @task
    def visit(self) -> None:
        waiting = to_rate[self.person]
        if not waiting:
            return
        progress = waiting.pop(0)
        page = self.call("GET", progress, "rate: progress", 200)
        if f"{progress}/rate" not in page.text:  # not concluded yet: come back later
            waiting.append(progress)
            return
        form = self.call("GET", f"{progress}/rate", "rate: form", 200)
        if random.random() < 0.8:
            answer: dict[str, Any] = {"level": "5", "indicators_good": "convenience"}
        else:
            answer = {"level": "2", "reasons": ["slow", "other"], "comment": "排队久"}
        done = self.call(
            "POST",
            f"{progress}/rate",
            "rate: submit",
            303,
            data={"csrf_token": _csrf(form.text), **answer},
        )
        if not str(done.headers["location"]).endswith("done=rated"):
            raise AssertionError(f"rated? {done.headers['location']}")
