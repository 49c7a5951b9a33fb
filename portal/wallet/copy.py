"""The annotated copy (加注件): a PDF of one license with the purpose written across the
page, so a copy handed to an organisation cannot serve another purpose unnoticed. The
wording of the annotation is the legal text, in Chinese whatever the page's language."""

from __future__ import annotations

import base64
import io
from datetime import date

from PIL import Image, ImageDraw
from starlette.concurrency import run_in_threadpool

from portal.drawing import font
from portal.wallet.card import RED


def watermark(org_name: str, reason: str, until: date) -> str:
    return f"仅供{org_name}用于{reason}，有效期至{until.isoformat()}"


def data_uri(content: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(content).decode()}"


async def pdf(html: str) -> bytes:
    return await run_in_threadpool(_pdf, html)


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango, which start-up does not need

    rendered: bytes = HTML(string=html).write_pdf()
    return rendered


def annotated_png(image: bytes, text: str) -> bytes:
    """The license picture with the annotation on top and repeated across it, for WeChat's
    web-view, which shows no PDF inline on every phone: an image always shows."""
    base = Image.open(io.BytesIO(image)).convert("RGBA")
    band = 56
    page = Image.new("RGBA", (base.width, base.height + band), (255, 255, 255, 255))
    page.paste(base, (0, band))
    draw = ImageDraw.Draw(page)
    draw.text((base.width // 2, band // 2), text, font=font(20), fill=RED, anchor="mm")
    layer = Image.new("RGBA", (base.width * 2, base.height * 2), (0, 0, 0, 0))
    marks = ImageDraw.Draw(layer)
    for row, y in enumerate(range(0, layer.height, 90)):
        marks.text(((row % 2) * 160, y), (text + "　") * 3, font=font(22), fill=(*RED, 70))
    layer = layer.rotate(30, center=(layer.width // 2, layer.height // 2))
    left, top = (layer.width - page.width) // 2, (layer.height - page.height) // 2
    page.alpha_composite(layer.crop((left, top, left + page.width, top + page.height)))
    out = io.BytesIO()
    page.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()
