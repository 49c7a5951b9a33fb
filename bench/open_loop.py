"""An open-loop HTTP load driver: requests at a fixed offered rate over N keep-alive
connections, latency counted from when each request was *due*, not when it was sent.

wrk (closed loop) sends the next request only when an answer came back, so at 64 connections
its latency is 64 ÷ throughput whatever the server does (Little's law), and a stalled server
is asked less (coordinated omission). Here request k is due at start + k ÷ rate whether or not
earlier ones were answered; a request waiting for a free connection counts that wait as
latency, as a real user's would. This is what "p99 ≤ 50 ms at 64 connections" can mean: 64
users' connections, at a load the server should carry.

Deliberately small (raw asyncio streams, HTTP/1.1, Content-Length bodies only) so the driver
costs little CPU next to the server on a two-core machine; its own CPU time is reported.

Run: `.venv/bin/python bench/open_loop.py URL --rate 400 --connections 64 --seconds 10
[--cookie 'session=…']`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit


@dataclass
class OpenLoopResult:
    rate: float  # offered, requests per second
    achieved: float  # answered per second of the run
    requests: int
    bad: int  # non-2xx answers, broken connections, answers after the drain time
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    driver_cpu_s: float
    # The slowest answer among the requests due in each second of the run: a latency that
    # climbs second after second is a backlog (more offered than served), a lone peak a stall.
    worst_ms_by_second: list[float]


def percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(share * len(sorted_values)) - 1))
    return sorted_values[index]


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request, read its whole answer; returns the status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise ValueError("chunked answers are not supported by this driver")
    await reader.readexactly(length)
    return status


async def drive(
    url: str, rate: float, connections: int, seconds: float, cookie: str = ""
) -> OpenLoopResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "User-Agent: open-loop"]
    if cookie:
        headers.append(f"Cookie: {cookie}")
    request = ("\r\n".join(headers) + "\r\n\r\n").encode()
    total = int(rate * seconds)
    due_queue: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []
    worst_by_second: dict[int, float] = {}
    bad_status = 0
    broken = 0  # connection errors: those requests got no answer

    async def connection() -> None:
        nonlocal bad_status, broken
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (due := await due_queue.get()) is not None:
                try:
                    status = await _exchange(reader, writer, request)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    broken += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                latency = time.perf_counter() - due
                latencies.append(latency)
                second = int(due - started)
                worst_by_second[second] = max(worst_by_second.get(second, 0.0), latency)
                if not 200 <= status < 300:
                    bad_status += 1
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    await asyncio.sleep(0.2)  # every connection open before the clock starts
    started = time.perf_counter()
    for k in range(total):
        due = started + k / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        due_queue.put_nowait(due)
    for _ in workers:
        due_queue.put_nowait(None)
    _, pending = await asyncio.wait(workers, timeout=seconds + 30)
    for task in pending:  # still queued after the drain time: counted as failed
        task.cancel()
    elapsed = time.perf_counter() - started
    unanswered = total - len(latencies) - broken
    ordered = sorted(latencies)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return OpenLoopResult(
        rate=rate,
        achieved=round(len(latencies) / elapsed, 1),
        requests=len(latencies),
        bad=bad_status + broken + unanswered,
        p50_ms=round(1000 * percentile(ordered, 0.50), 1),
        p90_ms=round(1000 * percentile(ordered, 0.90), 1),
        p99_ms=round(1000 * percentile(ordered, 0.99), 1),
        max_ms=round(1000 * (ordered[-1] if ordered else 0.0), 1),
        driver_cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
        worst_ms_by_second=[
            round(1000 * worst_by_second.get(second, 0.0), 1)
            for second in range(max(worst_by_second, default=-1) + 1)
        ],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--cookie", default="")
    args = parser.parse_args()
    result = asyncio.run(drive(args.url, args.rate, args.connections, args.seconds, args.cookie))
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
