"""The real catalog: every one-thing of seed 002 annex 1, with every sub-item's guide."""

import pytest

from portal.catalog.loader import load_catalog
from portal.catalog.schema import Audience

# Seed 002 annex 1: the 21 one-things (file code → the annex's name).
ANNEX_1 = {
    "enterprise-change": "企业信息变更",
    "transport-company": "开办运输企业",
    "restaurant": "开办餐饮店",
    "utility-connection": "水电气网联合报装",
    "credit-repair": "信用修复",
    "listing-compliance": "企业上市合法合规信息核查",
    "bankruptcy-check": "企业破产信息核查",
    "company-deregistration": "企业注销登记",
    "newborn": "新生儿出生",
    "school-enrolment": "教育入学",
    "social-security-card": "社会保障卡居民服务",
    "disability-services": "残疾人服务",
    "retirement": "退休",
    "enterprise-relocation": "企业迁移",
    "enterprise-annual-reports": "企业数据填报",
    "oversize-transport": "大件运输",
    "medical-reimbursement": "就医费用",
    "provident-fund-home-loan": "住房公积金",
    "public-rental-housing": "公租房",
    "veterans": "退役军人",
    "study-abroad": "留学",
}
CATALOG = load_catalog()


@pytest.mark.parametrize(("code", "name"), ANNEX_1.items())
def test_annex_one_thing_is_in_the_catalog(code: str, name: str) -> None:
    thing = CATALOG.things[code]
    assert name in thing.name.zh_Hans
    assert len(thing.items) >= 2


def test_both_audiences_and_every_theme_have_things() -> None:
    audiences = {t.audience for t in CATALOG.things.values()}
    assert audiences == {Audience.PERSON, Audience.ENTERPRISE}
    assert len(CATALOG.things) >= 21


@pytest.mark.parametrize("code", sorted(CATALOG.things))
def test_every_item_has_a_complete_guide(code: str) -> None:
    for item in CATALOG.things[code].items:
        assert item.legal_basis and item.process and item.conditions.en
        assert item.name.ug and item.name.en
