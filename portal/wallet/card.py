"""The card as one PNG (亮证卡片), for WeChat's web-view where nothing downloads: people
long-press it to save it. It carries the verification QR code and the moment it was made,
so a saved picture says how old it is; the code in it expires like the one on the page."""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from PIL import Image, ImageDraw

from portal.drawing import fit, font

WIDTH, MARGIN = 720, 36
INK, MUTED, RED, PAPER = (11, 12, 12), (80, 90, 95), (200, 16, 46), (255, 255, 255)


def render(title: str, rows: Sequence[tuple[str, str]], qr_url: str, footer: str) -> bytes:
    """``rows`` are (label, value) pairs already in the reader's language."""
    qr = segno.make(qr_url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=8, border=2)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    height = 110 + 40 * len(rows) + code.height + 90
    image = Image.new("RGB", (WIDTH, height), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 86), fill=RED)
    draw.text((WIDTH // 2, 43), title, font=font(32), fill=PAPER, anchor="mm")
    y = 110
    for label, value in rows:
        draw.text((MARGIN, y), label, font=font(20), fill=MUTED)
        draw.text((MARGIN + 200, y), fit(draw, value, WIDTH - 2 * MARGIN - 200, 20), font=font(20),
                  fill=INK)  # fmt: skip
        y += 40
    image.paste(code, ((WIDTH - code.width) // 2, y + 10))
    y += code.height + 30
    draw.text((WIDTH // 2, y), footer, font=font(18), fill=MUTED, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
