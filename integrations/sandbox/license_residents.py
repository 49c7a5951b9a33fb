"""What the population registry knows about the demo people beyond people.py: where their
household is registered, their ethnicity, when their ID card was issued and their household
number. Sex and birth date are read from the ID number itself, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric

from integrations.sandbox.people import DemoPerson, person_by_sub

ZHANG_HOME = "河南省新乡市牧野区和平大道北段 229 号院 3 号楼 2 单元 501 室"


@dataclass(frozen=True)
class Resident:
    sub: str
    address: str
    id_card_issued_on: date
    household_number: str
    ethnicity: str = "汉"
    household_head: str | None = None  # None: the person is the head
    relationship: str = "户主"

    @property
    def person(self) -> DemoPerson:
        person = person_by_sub(self.sub)
        if person is None:
            raise LookupError(self.sub)
        return person

    @property
    def sex(self) -> str:
        return "男" if int(self.person.id_number[16]) % 2 else "女"

    @property
    def birth_date(self) -> date:
        return ric.get_birth_date(self.person.id_number)

    @property
    def head(self) -> str:
        return self.household_head or self.person.name


RESIDENTS: tuple[Resident, ...] = (
    Resident("zhang-wei", ZHANG_HOME, date(2018, 5, 10), "410711023"),
    Resident(
        "li-na", ZHANG_HOME, date(2019, 9, 2), "410711023", household_head="张伟", relationship="妻"
    ),
    Resident(
        "wang-jianguo",
        "河南省新乡市红旗区平原路 41 号院 6 号楼 1 单元 302 室",
        date(2014, 3, 20),
        "410702117",
    ),
    Resident(
        "zhao-min",
        "河南省新乡市卫滨区胜利路 17 号院 2 号楼 3 单元 101 室",
        date(2015, 7, 6),
        "410703086",
    ),
    Resident("liu-qiang", "河南省新乡市新乡县小冀镇东街村 128 号", date(2016, 11, 15), "410721304"),
    Resident(
        "chen-jing",
        "河南省新乡市凤泉区宝山西路 56 号院 4 号楼 201 室",
        date(2013, 8, 19),
        "410704052",
    ),
    Resident("zhou-jie", "河南省新乡市原阳县城关镇南街 72 号", date(2017, 4, 12), "410725219"),
    Resident(
        "sun-li",
        "河南省新乡市牧野区牧野大道 305 号院 9 号楼 1 单元 602 室",
        date(2012, 10, 8),
        "410711178",
    ),
    Resident(
        "wu-lei", "河南省卫辉市比干大道 88 号院 5 号楼 402 室", date(2020, 1, 14), "410781093"
    ),
    Resident(
        "zheng-hong",
        "河南省新乡市红旗区向阳路 133 号院 1 号楼 2 单元 701 室",
        date(2011, 6, 21),
        "410702245",
    ),
    Resident(
        "huang-tao",
        "河南省新乡市牧野区和平路 42 号院 3 号楼 502 室",
        date(2019, 9, 3),
        "410711062",
    ),
    Resident(
        "aierken-maimaiti",
        "河南省新乡市牧野区荣校路 60 号院 2 号楼 1 单元 301 室",
        date(2017, 2, 10),
        "410711341",
        ethnicity="维吾尔",
    ),
    Resident("test-user", "河南省新乡市延津县城关镇文化路 19 号", date(2018, 2, 5), "410726160"),
)


def years_later(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def id_card_valid_until(birth: date, issued_on: date) -> date | None:
    """How long a resident ID card is valid, by age when issued (居民身份证法 第五条):
    under 16 five years, 16-25 ten, 26-45 twenty, 46 and over long-term (None)."""
    age = (
        issued_on.year - birth.year - ((issued_on.month, issued_on.day) < (birth.month, birth.day))
    )
    for limit, years in ((16, 5), (26, 10), (46, 20)):
        if age < limit:
            return years_later(issued_on, years)
    return None
