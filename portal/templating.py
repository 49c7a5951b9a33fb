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
from collections import OrderedDict
from collections.abc import Hashable, Mapping
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

from portal import clock, template_gettext
from portal.catalog.schema import LOCALES, Text
from portal.forms import divisions
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


def _localize(text: Text | None) -> Localized | str:
    return "" if text is None else localize(text, _rendering_locale.get())


def _current_locale() -> LocaleInfo:
    return locale_info(_rendering_locale.get())


_ = _gettext  # marks the messages below for extraction


def field_messages() -> dict[str, str]:
    """What each problem code of portal.forms.validation and the apply flow says."""
    return {
        "required": _("请填写这一项"),
        "required_choice": _("请选择一项"),
        "required_group": _("请至少填写一项"),
        "choice": _("请从列表中选择"),
        "resident_id": _("身份证号码不正确：应为 18 位，最后一位可以是 X，请核对"),
        "uscc": _("统一社会信用代码不正确：应为 18 位，请对照营业执照核对"),
        "mobile": _("请填写 11 位手机号码，例如 13812345678"),
        "email": _("请填写正确的电子邮箱，例如 name@example.com"),
        "date": _("请填写正确的日期，例如 2026-11-22"),
        "money": _("请填写金额，例如 1200 或 1200.50"),
        "number": _("请填写整数"),
        "bank_account": _("银行账号应为 12 至 30 位数字"),
        "too_long": _("内容太长，请精简"),
        "address_division": _("请选择省、市、区/县"),
        "address_street": _("请填写街道和门牌号"),
        "answer_missing": _("请选择一项后继续"),
        "material_missing": _("请上传这份材料、使用电子证照，或在允许时选择容缺"),
        "license_consent": _("使用电子证照前请勾选同意"),
        "license_missing": _("没有取到这份电子证照，请重新选择，或改为上传材料"),
        "upload_too_many": _("一份材料最多 20 个文件，请删除多余的文件"),
        "no_items": _("按您的回答，没有需要办理的事项，请修改回答"),
        "contact_mobile": _("请留一个手机号码，方便部门联系您"),
        "signature": _("请输入您的姓名作为签名，须与登录身份一致"),
        "upload_too_big": _("文件太大，请压缩后再上传（最大 10 MB）"),
        "upload_bad_type": _("只能上传 JPG、PNG 图片或 PDF 文件"),
        "upload_bad_image": _("图片无法打开，请重新拍照或换一个文件"),
        "upload_empty": _("文件是空的，请重新选择"),
    }


def _source_name(prefilled: dict[str, Any], license_names: dict[str, Any]) -> str:
    """Where a prefilled value came from, in the reader's language."""
    source = prefilled.get("source")
    if source == "license":
        name = license_names.get(prefilled.get("detail", ""), prefilled.get("detail", ""))
        return _("电子证照“%(name)s”") % {"name": name}
    return {
        "identity": _("统一身份认证"),
        "profile": _("我的常用信息"),
        "enterprise": _("企业登记信息"),
        "previous": _("上次申请"),
    }.get(str(source), str(source))


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
        # Templates ship with the code and change only with a restart: no stat() of every
        # template, include and import on each render to see whether it changed.
        auto_reload=False,
    )
    template_gettext.install(env, _rendering_locale)
    env.globals.update(
        t=_localize,
        static_url=static_url,
        csrf_field=_csrf_field,
        current_locale=_current_locale,
        field_messages=field_messages,
        source_name=_source_name,
        division_children=divisions.children,
    )
    env.filters["percent"] = lambda value: "—" if value is None else f"{value:.0%}"
    env.filters["ltr"] = ltr
    env.filters["china_time"] = lambda moment, fmt="%Y-%m-%d %H:%M": clock.china(moment).strftime(
        fmt
    )
    return env


def ltr(value: object) -> Markup:
    """A code or number (SJ-410700-…, a tracking number) kept left-to-right inside
    right-to-left text, where the bidi algorithm would otherwise move its pieces around."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(value)


# Fragments kept at most (the guides: 21 one-things × 2 views × 4 languages × the displays
# people choose; 10–30 KB each).
FRAGMENTS_KEPT = 512


class Templates:
    def __init__(self, env: jinja2.Environment | None = None) -> None:
        self.env = env or make_environment()
        self.blocks = Jinja2Blocks(env=self.env)
        self._fragments: OrderedDict[Hashable, Markup] = OrderedDict()

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

    def fragment(
        self, request: Request, name: str, context: Mapping[str, Any], key: Hashable
    ) -> Markup:
        """A part of a page that depends only on ``context`` (named by ``key``), the language
        and the display choices: rendered once for each, then kept (docs/performance.md,
        eleventh round). It sees no request, actor or CSRF token, so a fragment that names
        one fails to render rather than show one person's page to another."""
        state = request.scope.get("state", {})
        code, prefs = state.get("locale", "zh_Hans"), state.get("preferences", Preferences())
        kept_as = (name, key, code, prefs)
        found = self._fragments.get(kept_as)
        if found is not None:
            self._fragments.move_to_end(kept_as)
            return found
        token = _rendering_locale.set(code)
        try:
            found = Markup(
                self.env.get_template(name).render(
                    {"locale": locale_info(code), "prefs": prefs, **context}
                )
            )
        finally:
            _rendering_locale.reset(token)
        self._fragments[kept_as] = found
        while len(self._fragments) > FRAGMENTS_KEPT:
            self._fragments.popitem(last=False)
        return found

    def render_string(self, request: Request, name: str, context: dict[str, Any]) -> str:
        """A template rendered to a string (a PDF's HTML), with the base context."""
        full = {**self.base_context(request), **context}
        token = _rendering_locale.set(full["locale"].code)
        try:
            return self.env.get_template(name).render(full)
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
