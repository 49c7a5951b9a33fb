"""Uploaded materials: the type is decided by content, never by name; images are re-encoded
(which drops EXIF, GPS included, and anything hidden after the image data); files are stored
outside the web root under random names and served only to their owner."""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000
SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}


class UploadRefused(Exception):
    """``code`` is a message code: too_big, bad_type, bad_image, empty."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    sha256: str


def sniff(content: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if content.startswith(magic)), None)


def clean(content: bytes, max_bytes: int) -> CleanFile:
    if not content:
        raise UploadRefused("empty")
    if len(content) > max_bytes:
        raise UploadRefused("too_big")
    kind = sniff(content)
    if kind is None:
        raise UploadRefused("bad_type")
    if kind == "application/pdf":
        if b"%%EOF" not in content[-2048:]:
            raise UploadRefused("bad_type")
        cleaned = content
    else:
        cleaned = _reencode(content, kind)
    return CleanFile(cleaned, kind, hashlib.sha256(cleaned).hexdigest())


def _reencode(content: bytes, kind: str) -> bytes:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)  # keep the photo the right way up
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise UploadRefused("bad_image") from None
    out = io.BytesIO()
    if kind == "image/jpeg":
        upright.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    else:
        upright.save(out, "PNG", optimize=True)
    return out.getvalue()


def store(directory: Path, file: CleanFile) -> str:
    """Writes the file under a random name and returns that name."""
    directory.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    path = directory / name
    path.write_bytes(file.content)
    path.chmod(0o600)
    return name


def read(directory: Path, stored_name: str) -> bytes:
    if not stored_name.isalnum():  # names are ours; never follow a path from the database
        raise FileNotFoundError(stored_name)
    return (directory / stored_name).read_bytes()
