"""Draw a sandbox license as a small PNG: the type's title, its number and holder, the data
fields, the issuer and the validity, and a red 已注销 stamp on a revoked one.

Chinese needs a CJK font. Noto Sans CJK (Debian's fonts-noto-cjk, installed by the
Makefile) is used when it is there, DejaVu otherwise, Pillow's built-in font last: the
picture may then show boxes, but it is always drawn.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from integrations.sandbox.license_store import StoredLicense
from portal.drawing import fit, font

WIDTH, MARGIN, ROW = 720, 32, 34
MAX_DATA_ROWS = 9
LABELS = {
    "name": "姓名", "id_number": "公民身份号码", "sex": "性别", "ethnicity": "民族",
    "birth_date": "出生日期", "address": "住址", "valid_until": "有效期至",
    "household_head": "户主", "relationship": "与户主关系", "holder_name": "持证人",
    "holder_id_number": "身份证件号", "spouse_name": "配偶姓名",
    "spouse_id_number": "配偶身份证件号",
    "registration_date": "登记日期", "child_name": "新生儿姓名", "child_sex": "性别",
    "birth_place": "出生地点", "mother_name": "母亲姓名", "mother_id_number": "母亲身份证件号",
    "father_name": "父亲姓名", "father_id_number": "父亲身份证件号", "card_number": "卡号",
    "bank": "开户银行", "enterprise_name": "名称", "uscc": "统一社会信用代码",
    "legal_representative": "法定代表人", "enterprise_type": "类型",
    "registered_capital": "注册资本", "business_scope": "经营范围", "established_on": "成立日期",
    "license_number": "许可证编号", "premises": "经营场所", "business_items": "经营项目",
    "owner": "权利人", "location": "坐落", "area": "面积", "usage": "用途",
    "certificate_number": "证书号", "category": "残疾类别", "grade": "残疾等级",
    "school": "学校", "major": "专业", "graduated_on": "毕业日期", "level": "层次",
    "enlisted_on": "入伍时间", "discharged_on": "退役时间", "unit": "原部队",
    "class": "准驾车型", "retired_on": "退休日期", "employer": "原工作单位",
}  # fmt: skip
INK, MUTED, RED, PAPER = (11, 12, 12), (80, 90, 95), (200, 16, 46), (253, 250, 240)


def render_png(license: StoredLicense) -> bytes:
    rows = _rows(license)
    height = 120 + ROW * len(rows) + 70
    image = Image.new("RGB", (WIDTH, height), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, WIDTH - 9, height - 9), outline=RED, width=3)
    draw.text((WIDTH // 2, 44), license.type.name, font=font(30), fill=RED, anchor="mm")
    draw.text((WIDTH // 2, 84), f"编号 {license.number}", font=font(17), fill=MUTED, anchor="mm")
    for i, (label, value) in enumerate(rows):
        y = 120 + ROW * i
        draw.text((MARGIN, y), label, font=font(18), fill=MUTED)
        draw.text((MARGIN + 170, y), fit(draw, value, WIDTH - 2 * MARGIN - 170, 18), font=font(18),
                  fill=INK)  # fmt: skip
    footer = f"{license.issuer.name} · {license.issued_on.isoformat()} 颁发"
    draw.text((MARGIN, height - 50), footer, font=font(16), fill=MUTED)
    if license.status != "valid":
        draw.text((WIDTH - 150, height - 110), "已注销", font=font(40), fill=RED, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _rows(license: StoredLicense) -> list[tuple[str, str]]:
    rows = [(LABELS.get(key, key), value) for key, value in license.data.items()]
    until = license.valid_until.isoformat() if license.valid_until else "长期"
    period = f"{license.valid_from.isoformat()} 至 {until}"
    return [*rows[:MAX_DATA_ROWS], ("有效期限", period)]
