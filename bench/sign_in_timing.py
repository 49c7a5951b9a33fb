"""Time each step of the real sign-in, unloaded: the portal's /auth/login, the sandbox's
authorize page and its allow, the portal's /auth/callback (token, id_token validation,
userinfo, the person's row, the session).

    .venv/bin/python bench/sign_in_timing.py [--count 30] [--port-base 8610]

Starts `portal sandbox` and `portal serve --workers 1` on a fresh SQLite database (as
tests/load/run.py does) and signs in ``--count`` times one after another, as 李娜 and 张伟 in
turn; prints the median and p90 of each step in ms, and the web worker's CPU ms per sign-in.
Attach py-spy to the printed web pid while it runs to see where the time goes.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from bench._stack import sandbox_and_portal  # noqa: E402

HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
STEPS = ("login", "authorize", "allow", "callback")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, in clock ticks


def sign_in(portal: httpx2.Client, idp: httpx2.Client, person: str) -> dict[str, float]:
    times: dict[str, float] = {}
    portal.cookies.clear()
    idp.cookies.clear()

    def timed(step: str, call: object) -> httpx2.Response:
        started = time.perf_counter()
        response = call()  # type: ignore[operator]
        times[step] = (time.perf_counter() - started) * 1000
        return response  # type: ignore[no-any-return]

    login = timed("login", lambda: portal.get("/auth/login", params={"next": "/profile"}))
    assert login.status_code == 302, login.text
    authorize = login.headers["location"]
    page = timed("authorize", lambda: idp.get(authorize))
    assert page.status_code == 200, page.text
    form = {unescape(k): unescape(v) for k, v in HIDDEN.findall(page.text)}
    form |= {"person": person, "level": "L3", "decision": "allow"}
    allow = timed("allow", lambda: idp.post(authorize.split("?")[0], data=form))
    assert allow.status_code == 302, allow.text
    back = timed("callback", lambda: portal.get(allow.headers["location"]))
    assert back.status_code == 303, back.text
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--port-base", type=int, default=0, help="portal here, sandbox next")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds before the first")
    args = parser.parse_args()
    with sandbox_and_portal("sign-in-", args.port_base) as (setup, web_pid):
        time.sleep(args.pause)
        runs = []
        with httpx2.Client(base_url=setup.portal) as portal, httpx2.Client() as idp:
            sign_in(portal, idp, "li-na")  # warm: discovery, JWKS, first connections
            cpu = cpu_seconds(web_pid)
            for n in range(args.count):
                runs.append(sign_in(portal, idp, ("li-na", "zhang-wei")[n % 2]))
            cpu = cpu_seconds(web_pid) - cpu
    for step in STEPS:
        values = sorted(run[step] for run in runs)
        p90 = values[int(len(values) * 0.9) - 1]
        print(f"{step:>10}: median {statistics.median(values):7.1f} ms, p90 {p90:7.1f} ms")
    print(f"web CPU per sign-in: {cpu / len(runs) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
