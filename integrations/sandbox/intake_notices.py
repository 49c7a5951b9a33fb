"""The one-time notices (一次告知, docs/intake-api.md §6.3) the sandbox's counter and
departments issue: every field and material to fix at once, each with a reason in Chinese
for the applicant and the items it matters to, and a deadline.

Which field and which material a scenario picks is deliberately plain: the first text or
choice field the applicant filled in, and the first material provided as an upload or an
e-license, so a demo can answer the notice with any value and any file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from integrations.sandbox.intake_events import reason
from integrations.sandbox.intake_models import ApplicationRecord, Entry, ItemRecord, Json, Notice
from integrations.sandbox.intake_time import days_deadline, from_acceptance, ulid
from portal.catalog.schema import FieldType, Item, Material
from portal.forms.merged import materials_for, merged_form

COUNTER = "新乡市政务服务中心“一件事”综合受理窗口"
SUPPLEMENT_DAYS = 5
TOLERATED_DAYS = 10  # 受理后 10 个工作日内, as the newborn commitment says


def intake_notice(
    application: ApplicationRecord, at: datetime, fields: list[Entry], materials: list[Entry]
) -> Notice:
    count = len(fields) + len(materials)
    summary = (
        f"您提交的{application.thing.name.zh_Hans}申请有 {count} 处需要补正，请一次补正后再提交；"
        "补正前各事项暂不分发办理。"
    )
    return _notice("supplement", "intake_review", COUNTER, summary, at, fields, materials)


def scenario_entries(application: ApplicationRecord) -> tuple[list[Entry], list[Entry]]:
    """``supplement_intake``: one field and one material the counter finds wrong."""
    field = _first_field(application, application.open_items())
    material = _first_material(application, application.open_items())
    fields = [] if field is None else [field]
    return fields, [] if material is None else [material]


def file_entry(application: ApplicationRecord, material: Material) -> Entry:
    message = f"“{material.name.zh_Hans}”的文件无法下载，或与提交时的大小、摘要不一致，请重新上传。"
    return _material_entry(application, material, reason("file_unavailable", message))


def acceptance_notice(application: ApplicationRecord, item: ItemRecord, at: datetime) -> Notice:
    """``supplement_item``: the department's acceptance review asks about its own item."""
    config = application.config(item.key)
    field = _first_field(application, [config])
    material = _first_material(application, [config])
    fields = [] if field is None else [field]
    materials = [] if material is None else [material]
    for entry in (*fields, *materials):
        entry.items = [item.key]
    summary = (
        f"{item.department_name}对“{item.name}”进行受理审查，有 {len(fields) + len(materials)} "
        "处需要补正，请在期限内一次补正；补正前该事项暂停办理。"
    )
    stage = "acceptance_review"
    return _notice("supplement", stage, item.department_name, summary, at, fields, materials)


def tolerated_notice(application: ApplicationRecord, at: datetime) -> Notice | None:
    """The materials taken under 容缺受理, owed within 10 working days of acceptance."""
    applied = application.open_items()
    owed = [
        material
        for material in materials_for(application.thing, applied, application.form)
        if (application.materials.get(material.key) or {}).get("mode") == "tolerate"
    ]
    if not owed:
        return None
    entries = []
    for material in owed:
        message = f"容缺受理：按告知承诺补交{material.name.zh_Hans}。"
        basis = material.basis.zh_Hans if material.basis else None
        entries.append(_material_entry(application, material, reason("tolerated", message, basis)))
    names = "、".join(m.name.zh_Hans for m in owed)
    concerned = _union(entry.items for entry in entries)
    items = "、".join(application.items[key].name for key in concerned)
    summary = f"已容缺受理。您已签署告知承诺书，请在{items}受理后 {TOLERATED_DAYS} 个工作日内"
    summary += f"补交{names}。"
    notice = _notice("tolerated", "intake_review", COUNTER, summary, at, [], entries)
    notice.deadline = from_acceptance(TOLERATED_DAYS)
    return notice


def _notice(
    kind: str,
    stage: str,
    issued_by: str,
    summary: str,
    at: datetime,
    fields: list[Entry],
    materials: list[Entry],
) -> Notice:
    items = _union(entry.items for entry in (*fields, *materials))
    deadline = days_deadline(at, SUPPLEMENT_DAYS, "applicant")
    notice_id = f"ntc_{ulid()}"
    return Notice(
        notice_id, kind, stage, at, issued_by, summary, items, fields, materials, deadline
    )


def _first_field(application: ApplicationRecord, items: Sequence[Item]) -> Entry | None:
    for field in merged_form(application.thing, items).fields:
        value = application.form.get(field.key)
        if field.type in (FieldType.TEXT, FieldType.CHOICE) and value:
            label = field.label.zh_Hans
            message = f"“{label}”与电子证照或其他材料上的信息不一致，请核对后重新填写。"
            concerned = [item.key for item in items if field.key in item.fields]
            return Entry(field.key, reason("inconsistent", message), concerned)
    return None


def _first_material(application: ApplicationRecord, items: Sequence[Item]) -> Entry | None:
    for material in materials_for(application.thing, items, application.form):
        mode = (application.materials.get(material.key) or {}).get("mode")
        if mode == "upload":
            message = f"上传的“{material.name.zh_Hans}”不清晰或不完整，不符合要求，请重新上传。"
            return _material_entry(application, material, reason("not_compliant", message))
        if mode == "license":
            message = (
                f"“{material.name.zh_Hans}”电子证照暂时无法调用，请重新选择电子证照或上传材料。"
            )
            return _material_entry(application, material, reason("license_unusable", message))
    return None


def _material_entry(application: ApplicationRecord, material: Material, why: Json) -> Entry:
    concerned = [item.key for item in application.open_items() if material.key in item.materials]
    requirements = material.requirements.zh_Hans if material.requirements else None
    return Entry(material.key, dict(why), concerned, requirements)


def _union(groups: Iterable[Iterable[str]]) -> list[str]:
    seen: list[str] = []
    for group in groups:
        seen.extend(key for key in group if key not in seen)
    return seen
