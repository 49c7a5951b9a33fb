"""The typed shape of the catalog YAML: one-things, their sub-items, fields and materials.

Every file under ``things/`` is one :class:`OneThing`; ``reference/`` holds the shared
departments, e-license types and themes. Cross-references (item → department, item → field,
answer → item …) are checked by :mod:`portal.catalog.loader`, which also names the file and the
path inside it when something is wrong.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

LOCALES = ("zh_Hans", "zh_Hant", "en", "ug")
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text people read, in zh_Hans (the source) and en at least.

    zh_Hant may be omitted: it is then converted from zh_Hans with OpenCC (portal.i18n).
    ug may be omitted: pages then show zh_Hans with a visible fallback note.
    """

    zh_Hans: Annotated[str, StringConstraints(min_length=1)]
    zh_Hant: str | None = None
    en: Annotated[str, StringConstraints(min_length=1)]
    ug: str | None = None

    def get(self, locale: str) -> str | None:
        value: str | None = getattr(self, locale, None)
        return value


class Named(Text):
    """A name in all four locales: names people scan in lists never fall back."""

    ug: Annotated[str, StringConstraints(min_length=1)]


class Audience(StrEnum):
    PERSON = "person"
    ENTERPRISE = "enterprise"


class ItemType(StrEnum):
    """政务服务事项类型 as in the national item catalogue."""

    LICENSING = "licensing"  # 行政许可
    CONFIRMATION = "confirmation"  # 行政确认
    PAYMENT = "payment"  # 行政给付
    PUBLIC_SERVICE = "public_service"  # 公共服务
    OTHER_POWER = "other_power"  # 其他行政权力
    VERIFICATION = "verification"  # 信息核验 (data-sharing check that replaces a proof)


class Level(StrEnum):
    """行使层级."""

    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    RESIDENT_ID = "resident_id"
    USCC = "uscc"
    MOBILE = "mobile"
    EMAIL = "email"
    DATE = "date"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    ADDRESS = "address"
    MONEY = "money"
    NUMBER = "number"
    BANK_ACCOUNT = "bank_account"
    GROUP = "group"  # repeatable group of sub-fields


# The first two digits of a basic code (基本编码) name the item type.
TYPE_CODE_PREFIX = {
    ItemType.LICENSING: "01",
    ItemType.PAYMENT: "05",
    ItemType.CONFIRMATION: "07",
    ItemType.OTHER_POWER: "10",
    ItemType.PUBLIC_SERVICE: "20",
    ItemType.VERIFICATION: "20",
}

PREFILL_SOURCES = ("identity", "profile", "enterprise", "license", "previous")


class Choice(Strict):
    value: Key
    label: Text


class Condition(Strict):
    """Show a field only when another field has (one of) the given value(s)."""

    field: Key
    equals: list[str]


class FormField(Strict):
    key: Key
    label: Text
    type: FieldType
    section: Key
    required: bool = True
    hint: Text | None = None
    choices: list[Choice] = []
    when: Condition | None = None
    prefill: str | None = Field(
        default=None,
        description=(
            "where the value already exists: identity.<claim>, profile.<key>, "
            "enterprise.<key>, license.<license type>.<field>, previous.<field key>"
        ),
    )
    fields: list[FormField] = Field(default=[], description="sub-fields of a repeatable group")
    max_repeat: int | None = None

    @field_validator("prefill")
    @classmethod
    def _known_source(cls, value: str | None) -> str | None:
        if value is not None and value.split(".", 1)[0] not in PREFILL_SOURCES:
            raise ValueError(f"prefill source must start with one of {', '.join(PREFILL_SOURCES)}")
        return value


class Section(Strict):
    key: Key
    title: Text


class Material(Strict):
    """一套材料: one material, shared by every sub-item that references its key."""

    key: Key
    name: Text
    basis: Text | None = None
    form: Literal["paper", "electronic", "paper_or_electronic"] = "paper_or_electronic"
    original: bool = False
    copies: int = Field(default=1, ge=0)
    requirements: Text | None = None
    license_type: Key | None = Field(default=None, description="e-license that replaces it")
    tolerable: bool = Field(default=False, description="may be missing under 容缺 + 告知承诺")
    commitment: Text | None = None
    when: Condition | None = None


class Fee(Strict):
    amount_yuan: float = Field(ge=0)
    basis: Text | None = None
    note: Text | None = None


class Result(Strict):
    name: Text
    license_type: Key | None = None
    delivery: list[Literal["electronic", "pickup", "mail"]] = ["electronic"]


class Item(Strict):
    """具体事项: one sub-item handled by one department."""

    key: Key
    name: Named
    department: Key
    co_departments: list[Key] = []
    basic_code: Annotated[str, StringConstraints(pattern=r"^\d{12}$")] = Field(
        description="基本编码: 2-digit item type code + 10 digits"
    )
    implementation_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{18}\d{15}$")] = Field(
        description="实施编码: the department's USCC + basic code + 3-digit handling code"
    )
    type: ItemType
    level: Level
    legal_basis: list[Text]
    conditions: Text
    fields: list[Key]
    materials: list[Key] = []
    process: list[Text]
    statutory_days: int | None = Field(default=None, ge=0, description="None: no statutory limit")
    promised_days: int = Field(ge=0, description="0 means 即办 (done on the spot)")
    fee: Fee
    result: Result
    requires: list[Key] = Field(default=[], description="prerequisite sub-items (前置事项)")
    always: bool = Field(default=True, description="applies unless situations decide otherwise")
    notes: Text | None = None


class Answer(Strict):
    key: Key
    label: Text
    selects: list[Key] = Field(default=[], description="sub-items this answer adds")


class Situation(Strict):
    """情形: one question whose answer decides which optional sub-items apply."""

    key: Key
    question: Text
    hint: Text | None = None
    answers: list[Answer] = Field(min_length=2)


class OneThing(Strict):
    code: Slug
    name: Named
    summary: Text
    audience: Audience
    theme: Key
    lead_department: Key
    min_assurance: Literal["L2", "L3", "L4", "L5"] = "L3"
    popularity: int = Field(default=0, ge=0, description="orders 'most used' before usage data")
    keywords: list[str] = []
    conditions: Text
    situations: list[Situation] = []
    sections: list[Section]
    fields: list[FormField]
    materials: list[Material] = []
    items: list[Item] = Field(min_length=1)
    delivery: Text
    consultation: Text
    complaint: Text
    notes: Text | None = None


class Department(Strict):
    key: Key
    name: Named
    uscc: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{18}$")]
    phone: str
    address: Text | None = None


class LicenseType(Strict):
    """An e-license type (GB/T 36904 type code) that may replace a material."""

    key: Key
    name: Named
    type_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{18}\d{3}$")]
    fields: list[Key] = Field(default=[], description="data fields the library returns")


class Theme(Strict):
    key: Key
    audience: Audience
    name: Named
    icon: Key


class Reference(Strict):
    departments: list[Department]
    license_types: list[LicenseType]
    themes: list[Theme]
