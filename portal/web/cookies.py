"""Set-Cookie headers with the portal's rules: HttpOnly, SameSite=Lax, Secure under https."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders


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
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(raw_cookie_header)
    except Exception:  # a malformed Cookie header means "no cookie", never a 500
        return None
    morsel = cookie.get(name)
    return morsel.value if morsel else None
