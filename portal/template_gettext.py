"""gettext and ngettext for templates: what Jinja's i18n extension installs with
``newstyle=True`` (the translation escaped when the template autoescapes, then always
%-formatted, so ``%%`` reads ``%``), in one call instead of four.

Jinja's ``_`` resolves ``gettext`` in the context and calls it through the context; its
newstyle ``gettext`` calls the translation function through the context again, then
formats. A page calls ``_`` 100–200 times, and those hops were the largest single cost of
rendering one (docs/performance.md, "Eighth round"). A message without variables has one
answer per locale and escaping mode, kept once computed: templates pass literal messages,
so the cache holds the catalog at most.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.nodes import EvalContext
from markupsafe import Markup

from portal.i18n import translations


def install(env: jinja2.Environment, locale: ContextVar[str]) -> None:
    """Makes ``_``, ``gettext`` and ``ngettext`` translate into ``locale``'s current value."""

    @lru_cache(maxsize=8192)  # bounded all the same: a template could pass a variable
    def constant(code: str, message: str, autoescape: bool) -> str:
        return _formatted(translations(code).gettext(message), autoescape, {})

    @jinja2.pass_eval_context
    def gettext(eval_ctx: EvalContext, message: str, **variables: Any) -> str:
        if not variables:
            return constant(locale.get(), message, eval_ctx.autoescape)
        translated = translations(locale.get()).gettext(message)
        return _formatted(translated, eval_ctx.autoescape, variables)

    @jinja2.pass_eval_context
    def ngettext(
        eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        chosen = translations(locale.get()).ngettext(singular, plural, num)
        return _formatted(chosen, eval_ctx.autoescape, variables)

    # What install_gettext_callables(newstyle=True) sets: the i18n extension's {% trans %}
    # blocks then pass their variables as keywords and leave the formatting to these.
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)


def _formatted(text: str, autoescape: bool, variables: dict[str, Any]) -> str:
    return (Markup(text) if autoescape else text) % variables
