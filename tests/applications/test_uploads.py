import io

import pytest
from PIL import Image

from portal.applications.uploads import UploadRefused, clean, sniff


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPS info
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_images_are_reencoded_without_exif() -> None:
    raw = _jpeg_with_exif()
    assert b"PhoneMaker" in raw
    cleaned = clean(raw, 1_000_000)
    assert cleaned.content_type == "image/jpeg" and b"PhoneMaker" not in cleaned.content
    assert not Image.open(io.BytesIO(cleaned.content)).getexif()


def test_a_renamed_executable_is_refused() -> None:
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 100
    with pytest.raises(UploadRefused) as refused:
        clean(elf, 1_000_000)
    assert refused.value.code == "bad_type"


def test_a_fake_jpeg_is_refused() -> None:
    with pytest.raises(UploadRefused) as refused:
        clean(b"\xff\xd8\xff" + b"not really an image", 1_000_000)
    assert refused.value.code == "bad_image"


def test_size_limit_and_pdf() -> None:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert sniff(pdf) == "application/pdf" and clean(pdf, 1000).content == pdf
    with pytest.raises(UploadRefused):
        clean(pdf, 10)
