"""Jinja2 for the portal: one environment, gettext bound to each request's locale, and
``render()``, which returns a whole page or, for htmx, one named block of the same template.

The base context every template gets (documented and tested in tests/test_templating.py):

``request``      the Starlette request
``locale``       LocaleInfo: code, html_lang, direction, native_name
``locales``      every LocaleInfo, for the language switch
``prefs``        Preferences: elder (bool), font_scale (percent)
``actor``        auth.actor.Actor of the signed-in person, or None
``csrf_token``   callable: a masked CSRF token for a form or an htmx header
``htmx``         True when htmx asked for this response
``t``            callable: a catalog Text in the request's locale (a Localized)
``static_url``   callable: a static file's URL with a content hash for caching
``lang_url``     callable: this page's URL in another locale
``in_miniprogram`` True inside the WeChat mini-program's web-view (its user agent says so)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from jinja2_fragments.starlette import Jinja2Blocks
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from portal.catalog.schema import LOCALES, Text
from portal.i18n import LocaleInfo, Localized, locale_info, localize, translations
from portal.settings import PROJECT_ROOT
from portal.web.csrf import CsrfState
from portal.web.preferences import Preferences

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"


# The locale of the template being rendered. A context variable rather than a template
# variable, so macros imported without context translate too.
_rendering_locale: ContextVar[str] = ContextVar("rendering_locale", default="zh_Hans")


def _gettext(message: str) -> str:
    return translations(_rendering_locale.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_rendering_locale.get()).ngettext(singular, plural, n)


def _localize(text: Text | None) -> Localized | str:
    return "" if text is None else localize(text, _rendering_locale.get())


def _current_locale() -> LocaleInfo:
    return locale_info(_rendering_locale.get())


@cache
def static_url(path: str) -> str:
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


def _csrf_field(token: str) -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


def make_environment(directory: Path = TEMPLATES_DIR) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(["html", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    env.globals.update(
        t=_localize, static_url=static_url, csrf_field=_csrf_field, current_locale=_current_locale
    )
    env.filters["percent"] = lambda value: "—" if value is None else f"{value:.0%}"
    return env


class Templates:
    def __init__(self, env: jinja2.Environment | None = None) -> None:
        self.env = env or make_environment()
        self.blocks = Jinja2Blocks(env=self.env)

    def base_context(self, request: Request) -> dict[str, Any]:
        state = request.scope.get("state", {})
        code = state.get("locale", "zh_Hans")
        csrf: CsrfState | None = state.get("csrf")
        return {
            "request": request,
            "locale": locale_info(code),
            "locales": [locale_info(c) for c in LOCALES],
            "prefs": state.get("preferences", Preferences()),
            "actor": state.get("actor"),
            "csrf_token": csrf.token if csrf else (lambda: ""),
            "htmx": request.headers.get("hx-request") == "true",
            "lang_url": lambda other: _url_with(request, lang=other),
            "in_miniprogram": "miniProgram" in request.headers.get("user-agent", ""),
        }

    def render(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        block: str | None = None,
        status_code: int = 200,
    ) -> Response:
        """The whole page, or only ``block`` when htmx asks (progressive enhancement)."""
        full = {**self.base_context(request), **(context or {})}
        token = _rendering_locale.set(full["locale"].code)
        try:
            return self._respond(request, name, full, block, status_code)
        finally:
            _rendering_locale.reset(token)

    def _respond(
        self,
        request: Request,
        name: str,
        full: dict[str, Any],
        block: str | None,
        status_code: int,
    ) -> Response:
        if block and full["htmx"] and request.headers.get("hx-history-restore-request") != "true":
            response = self.blocks.TemplateResponse(
                request, name, full, block_name=block, status_code=status_code
            )
        else:
            response = self.blocks.TemplateResponse(request, name, full, status_code=status_code)
        response.headers["vary"] = "HX-Request, Accept-Language, Cookie"
        return response


def _url_with(request: Request, **params: str) -> str:
    query = {k: v for k, v in request.query_params.items() if k not in params}
    query.update(params)
    return f"{request.url.path}?{urlencode(query)}"


def gettext_for(request: Request) -> Any:
    """The gettext function for a request's locale, for messages made in Python."""
    return translations(request.scope.get("state", {}).get("locale", "zh_Hans")).gettext
