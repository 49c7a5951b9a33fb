"""Drive the apply flow in a browser the way a person would, counting what they type and tap.

Every value the person has to give is typed or tapped here; everything else must already be
on the page (prefilled). The counts go to var/figures/ and docs/performance.md.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page

from portal.settings import PROJECT_ROOT

FIGURES = PROJECT_ROOT / "var" / "figures"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (358, 441), (240, 240, 240)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Effort:
    typed: list[str] = field(default_factory=list)
    taps: int = 0
    uploads: int = 0

    def save(self, name: str, extra: dict[str, object]) -> None:
        FIGURES.mkdir(parents=True, exist_ok=True)
        data = {
            "typed_fields": len(self.typed),
            "typed": self.typed,
            "taps": self.taps,
            "uploads": self.uploads,
            **extra,
        }
        (FIGURES / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False, indent=2))


class Person:
    def __init__(self, page: Page, answers: dict[str, str] | None = None) -> None:
        self.page = page
        self.effort = Effort()
        self.answers = answers or {}

    def tap(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.effort.taps += 1

    def type(self, selector: str, value: str, label: str) -> None:
        self.page.locator(selector).first.fill(value)
        self.effort.typed.append(label)

    def answer_questions(self) -> None:
        while "/q/" in self.page.url:
            key = self.page.url.rsplit("/", 1)[-1].split("?")[0]
            wanted = self.answers.get(key)
            self.tap(f"input[name=answer][value='{wanted}']" if wanted else "input[name=answer]")
            self.tap("main button[type=submit]")

    def fill_sections(self) -> None:
        while "/s/" in self.page.url:
            self._fill_empty_fields()
            self.tap("main button[value=next]")
            summary = self.page.locator(".error-summary")
            if summary.count() and "/s/" in self.page.url:
                self._fill_empty_fields()
                self.tap("main button[value=next]")
            problems = self.page.locator(".error-summary")
            assert not problems.count(), f"{self.page.url}: {problems.first.inner_html()}"

    def _fill_empty_fields(self) -> None:
        page = self.page
        for box in page.locator("main form .field:not(.field--prefilled)").all():
            if box.locator("select").count() == 3:
                self._address(box.get_attribute("id") or "")
            elif box.locator("input[type=radio]").count():
                if not box.locator("input[type=radio]:checked").count():
                    box.locator("input[type=radio]").first.check()
                    self.effort.taps += 1
            elif box.locator("input[type=checkbox]").count():
                if not box.locator("input[type=checkbox]:checked").count():
                    box.locator("input[type=checkbox]").first.check()
                    self.effort.taps += 1
            else:
                control = box.locator("input:not([type=hidden]), textarea").first
                if (
                    control.count()
                    and not control.input_value()
                    and not control.get_attribute("readonly")
                ):
                    control.fill(
                        _sample(control.get_attribute("type"), control.get_attribute("inputmode"))
                    )
                    self.effort.typed.append(control.get_attribute("name") or "?")

    def _address(self, box_id: str) -> None:
        page = self.page
        base = box_id.removeprefix("field-")
        if not page.locator(f"#{base}").input_value():
            page.select_option(f"#{base}", "41")
            self.tap(f"#{box_id} button[value=refresh]")
        if not page.locator(f"#{base}-city").input_value():
            page.select_option(f"#{base}-city", "4107")
            self.tap(f"#{box_id} button[value=refresh]")
        if not page.locator(f"#{base}-county").input_value():
            page.select_option(f"#{base}-county", "410702")
            self.effort.taps += 1
        street = page.locator(f"#{base}-street")
        if not street.input_value():
            street.fill("人民路 1 号")
            self.effort.typed.append(f"{base}.street")

    def provide_materials(self, image: Path) -> None:
        page = self.page
        for box in page.locator("fieldset.material-box").all():
            if box.locator("input[value=license]").count():
                box.locator("input[value=license]").check()
                box.locator("input[type=checkbox][name$='.consent']").check()
                self.effort.taps += 2
            else:
                box.locator("input[value=upload]").check()
                box.locator("input[type=file]").set_input_files(str(image))
                self.effort.taps += 2
                self.effort.uploads += 1
        self.tap("main button[value=next]")
        problems = page.locator(".error-summary")
        assert not problems.count(), f"{page.url}: {problems.first.inner_text()}"


def _sample(kind: str | None, inputmode: str | None) -> str:
    if kind == "tel":
        return "13812345678"
    if kind == "date":
        return "2026-01-15"
    if inputmode in ("numeric", "decimal"):
        return "80"
    return "测试填写"
