"""Citizens over real HTTP while a fault happens: submitter threads post prepared drafts to
the portal's real submit endpoint (a draft whose submit failed is tried again later, as a
person would), reader threads open progress pages, the home page and the list of
applications. Every answer is recorded; a connection that got no answer is status 0."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx2

SUBMITTED = re.compile(r"^/applications/([A-Za-z0-9_-]+)\?submitted=1$")
# templates/errors/error.html: what a 5xx page tells a person (the database is away; the
# process has its limit of requests in flight).
CLEAR_PAGES = ("系统暂时出了问题", "现在办事的人多")
MAX_TRIES = 60
RETRY_AFTER = 2.0  # seconds before a person tries a failed submit again


@dataclass(frozen=True)
class Hit:
    kind: str  # submit | progress | home | list
    path: str
    status: int  # 0: no answer (refused, reset, timed out)
    at: float  # time.monotonic()
    clear: bool  # a 5xx page that says what happened (not a traceback)
    seconds: float = 0.0
    error: str = ""  # why there was no answer


@dataclass
class Load:
    url: str
    cookies: dict[str, str]
    csrf: str
    drafts: list[str]
    submitters: int = 2
    readers: int = 1
    pause: float = 0.05  # between one person's requests
    hits: list[Hit] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # draft → application public id
    retried: Counter[str] = field(default_factory=Counter)  # drafts whose submit failed, tries
    _queue: deque[tuple[float, str]] = field(default_factory=deque)  # (not before, draft)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        self._queue.extend((0.0, draft) for draft in self.drafts)
        people = [self._submitter] * self.submitters + [self._reader] * self.readers
        self._threads = [threading.Thread(target=run, daemon=True) for run in people]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def wait_submitted(self, timeout: float) -> bool:
        """True once every draft was submitted before ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._given_up():
                    return False  # a person gave up: the portal never took their submission
                if not self._queue and len(self.accepted) >= len(self.drafts):
                    return True
            time.sleep(0.2)
        return False

    def _given_up(self) -> int:
        return sum(1 for tries in self.retried.values() if tries >= MAX_TRIES)

    def failures(self, expected: Callable[[Hit], bool] = lambda hit: False) -> list[Hit]:
        """5xx answers and unanswered requests the fault does not explain."""
        return [h for h in self.hits if (h.status >= 500 or h.status == 0) and not expected(h)]

    def counts(self) -> dict[str, int]:
        return {
            str(status): n for status, n in sorted(Counter(h.status for h in self.hits).items())
        }

    def _client(self) -> httpx2.Client:
        return httpx2.Client(base_url=self.url, cookies=self.cookies, timeout=30.0)

    def _record(
        self, kind: str, path: str, began: float, answer: httpx2.Response | Exception
    ) -> None:
        now = time.monotonic()
        if isinstance(answer, Exception):
            hit = Hit(kind, path, 0, now, False, now - began, type(answer).__name__)
        else:
            clear = answer.status_code >= 500 and any(p in answer.text for p in CLEAR_PAGES)
            hit = Hit(kind, path, answer.status_code, now, clear, now - began)
        with self._lock:
            self.hits.append(hit)

    def _get(self, http: httpx2.Client, kind: str, path: str) -> None:
        began = time.monotonic()
        try:
            answer: httpx2.Response | Exception = http.get(path, follow_redirects=False)
        except httpx2.TransportError as exc:
            answer = exc
        self._record(kind, path, began, answer)

    def _submitter(self) -> None:
        with self._client() as http:
            while not self._stop.is_set():
                with self._lock:
                    due = self._queue and self._queue[0][0] <= time.monotonic()
                    draft = self._queue.popleft()[1] if due else None
                if draft is None:
                    self._stop.wait(self.pause)
                    continue
                self._submit(http, draft)
                self._stop.wait(self.pause)

    def _submit(self, http: httpx2.Client, draft: str) -> None:
        path = f"/drafts/{draft}/submit"
        form = {"csrf_token": self.csrf, "delivery_mode": "per_item"}
        began = time.monotonic()
        response: httpx2.Response | None = None
        try:
            response = http.post(path, data=form, follow_redirects=False)
        except httpx2.TransportError as exc:
            self._record("submit", path, began, exc)
        else:
            self._record("submit", path, began, response)
        found = SUBMITTED.match(response.headers.get("location", "")) if response else None
        with self._lock:
            if response is not None and response.status_code == 303 and found:
                self.accepted[draft] = found.group(1)
                return
            self.retried[draft] += 1
            if self.retried[draft] < MAX_TRIES:  # a person tries again a little later
                self._queue.append((time.monotonic() + RETRY_AFTER, draft))

    def _reader(self) -> None:
        with self._client() as http:
            while not self._stop.is_set():
                with self._lock:
                    mine = list(self.accepted.values())
                pick = random.random()
                if mine and pick < 0.7:
                    public_id = random.choice(mine)
                    self._get(http, "progress", f"/applications/{public_id}")
                elif pick < 0.85:
                    self._get(http, "home", "/")
                else:
                    self._get(http, "list", "/applications")
                self._stop.wait(self.pause)
