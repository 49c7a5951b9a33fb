"""Time one applicant's visit step by step, unloaded, and the web worker's CPU per visit: the
locustfile's Applicant (sign in, questions, result, sections, materials with e-licences and
an upload, check, submit, confirmation), one visit after another.

    .venv/bin/python bench/apply_visit.py [--count 10] [--port-base 8620]

Starts `portal sandbox` and `portal serve` on a fresh SQLite database (as
bench/sign_in_timing.py does); prints each step's median in ms and the worker's CPU ms per
step and per visit. Attach py-spy to the printed web pid to see where the CPU goes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from bench._stack import sandbox_and_portal  # noqa: E402
from bench.sign_in_timing import cpu_seconds, sign_in  # noqa: E402
from tests.applications.formdata import form_values, photo  # noqa: E402
from tests.load.pages import CSRF, LICENSE, TYPED  # noqa: E402

PHOTO = photo()


class Visit:
    def __init__(self, portal: httpx2.Client, pid: int) -> None:
        self.portal, self.pid = portal, pid
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.cpu: dict[str, list[float]] = defaultdict(list)

    def call(self, step: str, method: str, path: str, expect: int, **kw: object) -> httpx2.Response:
        cpu, started = cpu_seconds(self.pid), time.perf_counter()
        response = self.portal.request(method, path, **kw)  # type: ignore[arg-type]
        self.ms[step].append((time.perf_counter() - started) * 1000)
        self.cpu[step].append((cpu_seconds(self.pid) - cpu) * 1000)
        assert response.status_code == expect, (step, response.status_code, response.text[:300])
        return response

    def form(self, step: str, path: str, data: dict[str, str] | None = None) -> str:
        page = self.call(step, "GET", path, 200)
        shown = {
            k: v for k, v in form_values(page.text).items() if k.startswith(("f.", "m.", "_shown"))
        }
        token = CSRF.search(page.text)
        body = {**shown, "csrf_token": token.group(1) if token else "", **(data or {})}
        done = self.call(step + " (post)", "POST", path, 303, data=body)
        return str(done.headers["location"])

    def run(self) -> None:
        path = self.form("start", "/things/newborn/apply")
        for answer in ("yes", "no", "no"):
            path = self.form("question", path, {"answer": answer})
        base = path.removesuffix("/result")
        section = self.form("result", f"{base}/result")
        while "/s/" in section:
            section = self.form("section", section, TYPED)
        page = self.call("materials", "GET", section, 200)
        data: dict[str, object] = {
            k: v for k, v in form_values(page.text).items() if k.startswith(("m.", "_shown"))
        }
        token = CSRF.search(page.text)
        data |= {"csrf_token": token.group(1) if token else "", "m.child_photo.mode": "upload"}
        for key, license_id in LICENSE.findall(page.text):
            data |= {f"m.{key}.mode": "license", f"m.{key}.license": license_id}
            data[f"m.{key}.consent"] = "yes"
        files = {"m.child_photo.files": ("photo.jpg", PHOTO, "image/jpeg")}
        done = self.call("materials (post)", "POST", section, 303, data=data, files=files)
        check = self.call("check", "GET", done.headers["location"], 200)
        token = CSRF.search(check.text)
        body = {"csrf_token": token.group(1) if token else "", "delivery_mode": "per_item"}
        sent = self.call("submit", "POST", f"{base}/submit", 303, data=body)
        self.call("confirmation", "GET", sent.headers["location"], 200)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--port-base", type=int, default=0, help="portal here, sandbox next")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds before the first")
    args = parser.parse_args()
    relay_apart = {"PORTAL_RELAY_IN_PROCESS": "false"}
    with sandbox_and_portal("apply-", args.port_base, relay_apart) as (setup, web_pid):
        time.sleep(args.pause)
        with httpx2.Client(base_url=setup.portal, timeout=30) as portal, httpx2.Client() as idp:
            visit = Visit(portal, web_pid)
            for n in range(args.count + 1):  # the first warms up and is not counted
                sign_in(portal, idp, ("li-na", "zhang-wei")[n % 2])
                portal.get("/things/newborn/apply")
                if n == 0:
                    visit.run()
                    visit.ms.clear()
                    visit.cpu.clear()
                else:
                    visit.run()
    total = 0.0
    for step in visit.ms:
        cpu = statistics.mean(visit.cpu[step])
        total += cpu * len(visit.cpu[step]) / args.count
        print(f"{step:>18}: median {statistics.median(visit.ms[step]):7.1f} ms, CPU {cpu:6.1f} ms")
    print(f"web CPU per visit (without sign-in): {total:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
