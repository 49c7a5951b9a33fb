"""Read a page's form the way a browser would submit it (values shown, radios checked)."""

from __future__ import annotations

from html.parser import HTMLParser


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
