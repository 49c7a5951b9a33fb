"""The demo people the sandbox signs in: one for each kind of person a one-thing is built for.

Every number is well-formed (resident IDs carry a right check digit and a region code that
existed in the birth year, as ``stdnum.cn.ric`` insists; the company's USCC and its embedded
organisation code check out), so the portal's own validation runs on them unchanged. None of
them belongs to a real person. Born before 1983, 王建国 was first registered in 新乡地区, whose
codes were 4122xx until Xinxiang's 4107xx replaced them.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.sandbox.levels import Level


@dataclass(frozen=True)
class Enterprise:
    """The ``enterprise`` claim: the company a legal-person sign-in acts for."""

    uscc: str
    name: str
    role: str = "legal_representative"

    def as_claim(self) -> dict[str, str]:
        return {"uscc": self.uscc, "name": self.name, "role": self.role}


@dataclass(frozen=True)
class DemoPerson:
    sub: str
    name: str
    id_number: str
    phone_number: str
    max_level: Level
    wechat_openid: str
    description: str
    enterprise: Enterprise | None = None
    roles: tuple[str, ...] = ()


HAOWEIDAO = Enterprise(uscc="91410700MA45RT3K8A", name="新乡市牧野区好味道餐饮有限公司")

PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        sub="zhang-wei",
        name="张伟",
        id_number="410711199203140316",
        phone_number="13837310521",
        max_level="L4",
        wechat_openid="o6_bmEXehXcv3--DUMZH8KRrYV3C",
        description="新生儿的父亲：办理出生一件事（出生医学证明、户口、医保）",
    ),
    DemoPerson(
        sub="li-na",
        name="李娜",
        id_number="410702199408270425",
        phone_number="15637320846",
        max_level="L4",
        wechat_openid="o6_bmJC-BZHhm5S6xxMYHxq2B5kR",
        description="新生儿的母亲：与张伟一起办理出生一件事",
    ),
    DemoPerson(
        sub="wang-jianguo",
        name="王建国",
        id_number="412230196605090171",
        phone_number="13937301188",
        max_level="L4",
        wechat_openid="o6_bmP0r6UV1cZB3urJ1mKpWx_KA",
        description="1966 年出生，即将退休：办理退休一件事，适合试用长辈模式",
    ),
    DemoPerson(
        sub="zhao-min",
        name="赵敏",
        id_number="410703198801220266",
        phone_number="18637350612",
        max_level="L4",
        wechat_openid="o6_bm7EvZtxr9Pko2JjCKlpXFB7B",
        description="残疾人：办理残疾人服务一件事（残疾人证、两项补贴）",
    ),
    DemoPerson(
        sub="liu-qiang",
        name="刘强",
        id_number="410721198509160537",
        phone_number="13503736097",
        max_level="L4",
        wechat_openid="o6_bmSv0hD9Oi22Jc8FQF6cA1EZe",
        description="退役军人：办理退役军人服务一件事",
    ),
    DemoPerson(
        sub="chen-jing",
        name="陈静",
        id_number="410704198704030643",
        phone_number="15803738265",
        max_level="L3",
        wechat_openid="o6_bmXrddMgg1mhzLaPI89Aay6Sa",
        description="孩子今年上小学的家长：办理入学一件事；只做过实名核验，最高 L3",
    ),
    DemoPerson(
        sub="zhou-jie",
        name="周杰",
        id_number="41072519900611079X",
        phone_number="18937316640",
        max_level="L4",
        wechat_openid="o6_bm7XXhV6L9uf9D8DXa_RAnfBm",
        description="准备开餐馆的创业者，还没有营业执照：办理开餐馆一件事",
    ),
    DemoPerson(
        sub="sun-li",
        name="孙丽",
        id_number="410711198502180866",
        phone_number="13703730089",
        max_level="L5",
        wechat_openid="o6_bmKOO5KMOZPI_oVpbR2CDjlt1",
        description="好味道餐饮有限公司的法定代表人：以法人身份办理企业事项（数字证书 L5）",
        enterprise=HAOWEIDAO,
    ),
    DemoPerson(
        sub="wu-lei",
        name="吴磊",
        id_number="410781199307250957",
        phone_number="17337321578",
        max_level="L4",
        wechat_openid="o6_bmBC5Gco7fcopoFShyAO9H5sL",
        description="代办人：以个人身份登录，由企业在门户内授权后代为办理",
    ),
    DemoPerson(
        sub="zheng-hong",
        name="郑红",
        id_number="410702198409300281",
        phone_number="13623736402",
        max_level="L4",
        wechat_openid="o6_bmwzcZjS6dDb1qrWMYJc-fwFp",
        description="政务服务中心帮办员：远程帮办，视频帮群众填表（角色声明“帮办员”）",
        roles=("帮办员",),
    ),
    DemoPerson(
        sub="huang-tao",
        name="黄涛",
        id_number="410711198906150356",
        phone_number="13903735520",
        max_level="L4",
        wechat_openid="o6_bmT4hQ2nWc8ZrKd0PxYs6VfLm",
        description="政务服务中心帮办员（第二位）：与郑红同时在线接待（角色声明“帮办员”）",
        roles=("帮办员",),
    ),
    DemoPerson(
        sub="aierken-maimaiti",
        name="艾尔肯·买买提",
        id_number="410711199101050379",
        phone_number="19937305517",
        max_level="L4",
        wechat_openid="o6_bm64OJxA_6EgQaISMKsvrBsD3",
        description="维吾尔族群众：试用维吾尔语（从右到左）界面和带间隔号的姓名",
    ),
    DemoPerson(
        sub="test-user",
        name="测试用户",
        id_number="410726200001010089",
        phone_number="16637301234",
        max_level="L2",
        wechat_openid="o6_bm7GL4JayTZwkJrj-L_21Dikr",
        description="未实名的测试账户：只能达到 L2，用来试要求更高等级的事项",
    ),
)

_BY_SUB = {person.sub: person for person in PEOPLE}
_BY_OPENID = {person.wechat_openid: person for person in PEOPLE}


def person_by_sub(sub: str) -> DemoPerson | None:
    return _BY_SUB.get(sub)


def person_by_openid(openid: str) -> DemoPerson | None:
    return _BY_OPENID.get(openid)
