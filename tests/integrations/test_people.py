"""The demo people: numbers the portal's own validation accepts, one of each kind needed."""

from __future__ import annotations

import re
from datetime import date

from stdnum.cn import ric, uscc

from integrations.sandbox.levels import LEVELS
from integrations.sandbox.people import PEOPLE, person_by_openid, person_by_sub

MOBILE = re.compile(r"^1[3-9]\d{9}$")
OPENID = re.compile(r"^o[A-Za-z0-9_-]{27}$")
SUB = re.compile(r"^[a-z0-9-]+$")


def test_identity_numbers_are_valid_resident_ids_from_xinxiang() -> None:
    for person in PEOPLE:
        assert ric.is_valid(person.id_number), person.name
        # 4107xx is Xinxiang today; 4122xx was 新乡地区 before 1986.
        assert person.id_number.startswith(("4107", "4122")), person.name


def test_phone_numbers_are_mainland_mobiles() -> None:
    assert all(MOBILE.match(person.phone_number) for person in PEOPLE)


def test_identifiers_are_unique_and_url_safe() -> None:
    for values in ([p.sub for p in PEOPLE], [p.wechat_openid for p in PEOPLE]):
        assert len(set(values)) == len(values)
    assert all(SUB.match(p.sub) for p in PEOPLE)
    assert all(OPENID.match(p.wechat_openid) for p in PEOPLE)
    assert all(person_by_sub(p.sub) is p and person_by_openid(p.wechat_openid) is p for p in PEOPLE)


def test_levels_roles_and_enterprise() -> None:
    levels = {person.name: person.max_level for person in PEOPLE}
    assert all(level in LEVELS for level in levels.values())
    assert levels["孙丽"] == "L5"
    assert [name for name, level in levels.items() if level == "L2"] == ["测试用户"]
    assert sum(level == "L4" for level in levels.values()) > len(PEOPLE) / 2

    (representative,) = [p for p in PEOPLE if p.enterprise is not None]
    assert representative.name == "孙丽"
    assert representative.enterprise is not None
    assert uscc.is_valid(representative.enterprise.uscc)
    assert representative.enterprise.uscc.startswith("91410700")
    assert representative.enterprise.name == "新乡市牧野区好味道餐饮有限公司"
    assert representative.enterprise.role == "legal_representative"
    assert [p.name for p in PEOPLE if p.roles] == ["郑红", "黄涛"]
    agent = person_by_sub("wu-lei")
    assert agent is not None and agent.enterprise is None


def test_everyone_the_one_things_need_is_there() -> None:
    names = {person.name for person in PEOPLE}
    assert {
        "张伟",
        "李娜",
        "王建国",
        "赵敏",
        "刘强",
        "陈静",
        "周杰",
        "孙丽",
        "吴磊",
        "郑红",
    } <= names
    assert "艾尔肯·买买提" in names
    retiree = person_by_sub("wang-jianguo")
    assert retiree is not None and ric.get_birth_date(retiree.id_number) == date(1966, 5, 9)
    assert all(person.description for person in PEOPLE)
