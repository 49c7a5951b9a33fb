"""The annotated copy (加注件): a PDF of one license with the purpose written across the
page, so a copy handed to an organisation cannot serve another purpose unnoticed. The
wording of the annotation is the legal text, in Chinese whatever the page's language."""

from __future__ import annotations

import base64
from datetime import date

from starlette.concurrency import run_in_threadpool


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
