"""Chinese text on generated pictures (the wallet's card and annotated copy, the sandbox's
licence images): the CJK font the Makefile installs, and text cut to fit a width."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import ImageDraw, ImageFont

FONTS = (  # (path, face index): face 2 of the Noto collection is Simplified Chinese
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),
    (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), 0),
)


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path, index in FONTS:
        try:
            return ImageFont.truetype(str(path), size, index=index)
        except OSError:
            continue
    return ImageFont.load_default()


def fit(draw: ImageDraw.ImageDraw, text: str, width: int, size: int) -> str:
    """``text`` cut with an ellipsis so that it fits in ``width`` pixels at ``size``."""
    if draw.textlength(text, font=font(size)) <= width:
        return text
    while text and draw.textlength(text + "…", font=font(size)) > width:
        text = text[:-1]
    return text + "…"
