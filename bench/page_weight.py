"""Page weight budget: what a phone downloads for a page, compressed, and how many requests.

Budget (issue 2): home page ≤ 50 KB total transfer (HTML + CSS + JS, compressed), ≤ 6 requests.
Run: `make bench` (or `.venv/bin/python bench/page_weight.py`). The last lines are
`name: value unit`, one per figure.
"""

from __future__ import annotations

import sys
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._server import running_portal

PAGES = {"home": "/", "search": "/search?q=xsecs", "guide": "/things/newborn"}
BUDGET_KB = 50
BUDGET_REQUESTS = 6


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        url = None
        if tag == "link" and a.get("rel") in ("stylesheet", "icon", "preload"):
            url = a.get("href")
        elif tag in ("script", "img") and a.get("src"):
            url = a.get("src")
        if url and not url.startswith("data:"):
            self.urls.append(url)


def _fetch(url: str) -> tuple[bytes, int]:
    """(decoded body, bytes on the wire for the body) with gzip accepted, like a phone."""
    request = urllib.request.Request(
        url, headers={"Accept-Encoding": "gzip", "Accept-Language": "zh-CN"}
    )
    with urllib.request.urlopen(request) as response:
        raw = response.read()
        header_bytes = sum(len(k) + len(v) + 4 for k, v in response.getheaders())
        if response.headers.get("Content-Encoding") == "gzip":
            import gzip

            return gzip.decompress(raw), len(raw) + header_bytes
        return raw, len(raw) + header_bytes


def measure(base: str, path: str) -> tuple[int, int]:
    html, transferred = _fetch(base + path)
    parser = _Assets()
    parser.feed(html.decode())
    for asset in parser.urls:
        transferred += _fetch(base + asset)[1]
    return transferred, 1 + len(parser.urls)


def main() -> int:
    with running_portal() as base:
        figures = {name: measure(base, path) for name, path in PAGES.items()}
    ok = True
    for name, (size, requests) in figures.items():
        print(f"{name}_transfer: {size / 1024:.1f} KB")
        print(f"{name}_requests: {requests} count")
    home_size, home_requests = figures["home"]
    ok = home_size <= BUDGET_KB * 1024 and home_requests <= BUDGET_REQUESTS
    print(f"home_within_budget: {int(ok)} bool")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
