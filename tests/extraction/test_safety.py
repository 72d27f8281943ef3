"""ZIP bombs and oversize documents are refused before any parser opens them."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import docx
import pytest

from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import CorruptDocument, TooLarge
from timetable_platform.extraction.readers import read_layout
from timetable_platform.extraction.safety import check_ooxml_archive, check_pages, check_size, count_pages
from timetable_platform.extraction.sniff import DOCX, XLSX


def _real_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Monday Maths")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _with_bomb(base: bytes, entry_bytes: int) -> bytes:
    """A valid DOCX plus one highly compressible big part (zeros deflate about 1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("word/media/bomb.bin", b"\x00" * entry_bytes)
    return out.getvalue()


def test_ordinary_docx_passes() -> None:
    check_ooxml_archive(_real_docx(), Limits())


def test_compression_ratio_bomb_is_refused_before_parsing() -> None:
    bomb = _with_bomb(_real_docx(), 8 * 1024 * 1024)
    assert len(bomb) < 200_000  # small on the wire
    with pytest.raises(TooLarge, match="zip bomb"):
        check_ooxml_archive(bomb, Limits())
    with pytest.raises(TooLarge):
        read_layout(Document(content=bomb, media_type=DOCX), Limits())


def test_entry_size_limit() -> None:
    bomb = _with_bomb(_real_docx(), 3 * 1024 * 1024)
    with pytest.raises(TooLarge, match="unpacks to"):
        check_ooxml_archive(bomb, Limits(max_zip_entry_bytes=2 * 1024 * 1024, max_zip_ratio=1e9))


def test_total_size_limit_across_entries() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(3):
            archive.writestr(f"xl/part{i}.xml", b"a" * (900 * 1024))
    with pytest.raises(TooLarge, match="unpacks to"):
        check_ooxml_archive(out.getvalue(), Limits(max_zip_entry_bytes=1024 * 1024, max_zip_ratio=1e9))


def test_damaged_archive_is_corrupt_not_a_traceback() -> None:
    with pytest.raises(CorruptDocument):
        check_ooxml_archive(b"PK\x03\x04 definitely not a zip", Limits())
    with pytest.raises(CorruptDocument):
        read_layout(Document(content=_real_docx()[: 3000], media_type=XLSX), Limits())


def test_size_limit() -> None:
    check_size(b"x" * 100, Limits(max_bytes=100))
    with pytest.raises(TooLarge, match="limit"):
        check_size(b"x" * 101, Limits(max_bytes=100))
    with pytest.raises(TooLarge):
        read_layout(Document(content=_real_docx(), media_type=DOCX), Limits(max_bytes=1000))


def _png_header(width: int, height: int) -> bytes:
    """A PNG signature, its size and no pixels: enough for Pillow to open it and read its size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def test_pages_are_counted_from_the_header_and_checked_against_the_limit() -> None:
    from PIL import Image

    frames = [Image.new("RGB", (20, 20), color) for color in ("white", "black", "red")]
    tiff = io.BytesIO()
    frames[0].save(tiff, format="TIFF", save_all=True, append_images=frames[1:])
    assert count_pages(tiff.getvalue(), "image/tiff") == 3
    assert check_pages(tiff.getvalue(), "image/tiff", Limits(max_pages=3)) == 3
    with pytest.raises(TooLarge, match="3 pages; the limit is 2"):
        check_pages(tiff.getvalue(), "image/tiff", Limits(max_pages=2))
    assert count_pages(_real_docx(), DOCX) is None  # office formats have no pages to count
    with pytest.raises(TooLarge, match="too many pixels"):
        count_pages(_png_header(30_000, 30_000), "image/png")
    with pytest.raises(CorruptDocument):
        count_pages(b"\x89PNG\r\n\x1a\n", "image/png")
    with pytest.raises(CorruptDocument):
        count_pages(b"%PDF-1.7 not really", "application/pdf")
