"""Set-Cookie headers with the portal's rules: HttpOnly, SameSite=Lax, Secure under https."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.types import Scope


def cookie_name(name: str, https: bool) -> str:
    # __Host- binds the cookie to this exact host over https (no Domain, Path=/).
    return f"__Host-{name}" if https else name


def set_cookie(
    headers: MutableHeaders,
    name: str,
    value: str,
    *,
    https: bool,
    max_age: int | None = None,
    http_only: bool = True,
) -> None:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["samesite"] = "Lax"
    if max_age is not None:
        morsel["max-age"] = max_age
    if http_only:
        morsel["httponly"] = True
    if https:
        morsel["secure"] = True
    headers.append("set-cookie", morsel.OutputString())


def read_cookie(raw_cookie_header: str, name: str) -> str | None:
    return parse_cookies(raw_cookie_header).get(name)


def parse_cookies(raw_cookie_header: str) -> dict[str, str]:
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(raw_cookie_header)
    except Exception:  # a malformed Cookie header means "no cookie", never a 500
        return {}
    return {name: morsel.value for name, morsel in cookie.items()}


def request_cookie(scope: Scope, name: str) -> str | None:
    """A cookie of this request. The header is parsed once per request and kept in the
    scope: four middleware layers read cookies, and each parse was a ``SimpleCookie``."""
    cookies: dict[str, str] | None = scope.get(_PARSED)
    if cookies is None:
        raw = b""
        for key, value in scope["headers"]:
            if key == b"cookie":
                raw = value  # the last one, as the layers' dict(headers) read it before
        cookies = scope[_PARSED] = parse_cookies(raw.decode("latin-1"))
    return cookies.get(name)


_PARSED = "portal.cookies"
