"""What every fault test shares: how big a run is (the short CI one, or the full one with
``PORTAL_FAULTS_FULL=1``), a signed-in citizen with a draft ready to copy, the portal's
webhook counters read from /metrics, and the figures each test reports."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx2

from tests.conftest import csrf_token_from
from tests.relay.live import fill_newborn

T = TypeVar("T")


@dataclass(frozen=True)
class Scale:
    submissions: int  # drafts the load submits during one test
    submitters: int
    readers: int
    fault_seconds: float  # how long one fault lasts
    cycles: int  # how many times a repeated fault (kill, restart) happens
    settle_seconds: float  # how long the outbox and the webhooks may take to drain after


SHORT = Scale(
    submissions=12, submitters=2, readers=1, fault_seconds=3.0, cycles=2, settle_seconds=150
)
FULL = Scale(
    submissions=60, submitters=4, readers=2, fault_seconds=8.0, cycles=4, settle_seconds=900
)


def scale() -> Scale:
    return FULL if os.environ.get("PORTAL_FAULTS_FULL", "") not in ("", "0") else SHORT


@dataclass(frozen=True)
class Citizen:
    cookies: dict[str, str]
    csrf: str
    draft: str  # the public id of a draft filled through the pages, not submitted


def citizen(url: str) -> Citizen:
    """Signs 李娜 in over real HTTP and fills the newborn one-thing up to its check page."""
    with httpx2.Client(base_url=url, timeout=30.0) as http:
        base = fill_newborn(http)  # type: ignore[arg-type]
        check = http.get(f"{base}/check")
        assert check.status_code == 200, check.text
        return Citizen(dict(http.cookies), csrf_token_from(check.text), base.rsplit("/", 1)[1])


def counters(url: str, name: str) -> dict[str, int]:
    """One counter of the portal's /metrics, by its label values (``a/b`` for two labels)."""
    text = httpx2.get(f"{url}/metrics", timeout=30.0).text
    found: dict[str, int] = {}
    for labels, value in re.findall(rf"^{name}_total\{{([^}}]*)\}} (\S+)$", text, re.M):
        key = "/".join(re.findall(r'="([^"]*)"', labels))
        found[key] = int(float(value))
    return found


def webhook_outcomes(url: str) -> dict[str, int]:
    """The portal's webhook counters (applied, stale, duplicate …)."""
    return counters(url, "portal_webhooks")


def wait_until(check: Callable[[], T], timeout: float, every: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(every)
    return result


def report(name: str, figures: dict[str, Any]) -> None:
    """Prints the test's figures; appends them to ``PORTAL_FAULTS_REPORT`` when set (the
    file ``make faults`` writes, quoted in docs/faults.md)."""
    line = json.dumps({"test": name, **figures}, ensure_ascii=False, sort_keys=True)
    print(line)
    if target := os.environ.get("PORTAL_FAULTS_REPORT"):
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
