"""Languages: which locale a request gets, UI translations (gettext), catalog texts.

zh_Hans is the source language of every UI string and catalog text. zh_Hant is derived
from zh_Hans with OpenCC where no hand-written text exists; en and ug come from the message
catalogs (UI) and the YAML (catalog), and a missing text falls back to zh_Hans, visibly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import opencc
from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

from portal.catalog.schema import LOCALES, Text

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
SOURCE_LOCALE = "zh_Hans"


@dataclass(frozen=True)
class LocaleInfo:
    code: str  # zh_Hans
    html_lang: str  # zh-Hans
    direction: str  # ltr | rtl
    native_name: str  # 简体中文


@cache
def locale_info(code: str) -> LocaleInfo:
    babel_locale = Locale.parse(code)
    native = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English", "ug": "ئۇيغۇرچە"}
    return LocaleInfo(
        code=code,
        html_lang=code.replace("_", "-"),
        direction=babel_locale.text_direction,
        native_name=native[code],
    )


def supported(code: str | None) -> str | None:
    return code if code in LOCALES else None


def from_tag(tag: str) -> str | None:
    """Map a BCP 47 tag to one of our locales; zh-TW/zh-HK/zh-MO → zh_Hant."""
    try:
        parsed = Locale.parse(tag.strip().replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return supported(tag.strip())
    if parsed.language == "zh":
        return "zh_Hant" if parsed.script == "Hant" else "zh_Hans"
    return supported(parsed.language)


@lru_cache(maxsize=512)  # browsers send a handful of distinct headers; parsing one is Babel's
def negotiate(accept_language: str) -> str | None:
    """The best of our locales for an Accept-Language header, honouring q-values."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        code = from_tag(tag)
        if code:
            return code
    return None


@cache
def translations(code: str) -> NullTranslations:
    if code == SOURCE_LOCALE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [code], domain="messages")


@cache
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@cache
def traditional(text: str) -> str:
    return str(_to_traditional().convert(text))


@dataclass(frozen=True)
class Localized:
    text: str
    lang: str  # the locale the text is really in
    fallback: bool  # True when it is not in the requested locale

    def __str__(self) -> str:
        return self.text


def localize(text: Text, code: str) -> Localized:
    value = text.get(code)
    if value:
        return Localized(value, code, fallback=False)
    if code == "zh_Hant":
        return Localized(traditional(text.zh_Hans), code, fallback=False)
    return Localized(text.zh_Hans, SOURCE_LOCALE, fallback=True)
