"""Read a page's form the way a browser would submit it (values shown, radios checked), and
submit it so; a photo that passes the upload checks."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from typing import Any

from PIL import Image
from starlette.testclient import TestClient


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str | list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
            elif kind not in ("file", "submit"):
                self._add(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def _add(self, name: str, value: str) -> None:
        """Repeated names (the _shown markers) become lists, as a browser sends them."""
        current = self.data.get(name)
        if current is None:
            self.data[name] = value
        elif isinstance(current, list):
            current.append(value)
        else:
            self.data[name] = [current, value]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] = str(self.data[self._textarea]) + data


def form_values(html: str) -> dict[str, str | list[str]]:
    parser = _Form()
    parser.feed(html)
    return parser.data


def submit_page(
    client: TestClient, path: str, data: dict[str, object] | None = None, files: object = None
) -> Any:
    """Submit the page's form as a browser would: what is shown, plus ``data``."""
    from tests.conftest import csrf_token_from

    page = client.get(path)
    shown = {
        k: v for k, v in form_values(page.text).items() if k.startswith(("f.", "m.", "_shown"))
    }
    return client.post(
        path,
        data={**shown, "csrf_token": csrf_token_from(page.text), **(data or {})},
        files=files,  # type: ignore[arg-type]
        follow_redirects=False,
    )


def photo() -> bytes:
    """A white 358×441 JPEG: the size social-security card photos ask for."""
    out = io.BytesIO()
    Image.new("RGB", (358, 441), "white").save(out, "JPEG")
    return out.getvalue()
