"""Media types come from the bytes: magic numbers, OOXML part names, text decoding; never the file name."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl
import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from timetable_platform.extraction import sniff
from timetable_platform.extraction.errors import CorruptDocument, EmptyDocument, UnsupportedType


def _pdf() -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(72, 720, "Monday Maths")
    page.save()
    return buf.getvalue()


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, format=fmt)
    return buf.getvalue()


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Timetable")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Time"
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("PNG", sniff.PNG), ("JPEG", sniff.JPEG), ("TIFF", sniff.TIFF), ("WEBP", sniff.WEBP), ("GIF", sniff.GIF),
     ("BMP", sniff.BMP)],
)  # fmt: skip
def test_images_by_magic_bytes_whatever_the_name(fmt: str, expected: str) -> None:
    assert sniff.sniff_media_type(_image(fmt), "timetable.pdf") == expected
    assert sniff.is_image(expected)


def test_heic_by_ftyp_brand() -> None:
    ftyp = (24).to_bytes(4, "big") + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    assert sniff.sniff_media_type(ftyp + b"\x00" * 64) == sniff.HEIC
    mp4 = (24).to_bytes(4, "big") + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2"
    with pytest.raises(UnsupportedType):
        sniff.sniff_media_type(mp4 + b"\x00" * 64)


def test_pdf_with_wrong_extension_and_leading_junk() -> None:
    assert sniff.sniff_media_type(_pdf(), "photo.jpg") == sniff.PDF
    assert sniff.sniff_media_type(b"\r\n   " + _pdf(), None) == sniff.PDF
    assert not sniff.is_image(sniff.PDF)


def test_office_files_told_apart_by_their_parts_not_the_extension() -> None:
    assert sniff.sniff_media_type(_docx(), "sheet.xlsx") == sniff.DOCX
    assert sniff.sniff_media_type(_xlsx(), "letter.docx") == sniff.XLSX


def test_plain_zip_and_damaged_zip() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(UnsupportedType, match="ZIP archive"):
        sniff.sniff_media_type(buf.getvalue(), "t.docx")
    with pytest.raises(CorruptDocument):
        sniff.sniff_media_type(_docx()[:200], "t.docx")


def test_legacy_office_gets_a_save_as_hint() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "WordDocument".encode("utf-16-le") + b"\x00" * 100
    with pytest.raises(UnsupportedType, match=r"\.docx"):
        sniff.sniff_media_type(ole, "t.doc")
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "Workbook".encode("utf-16-le") + b"\x00" * 100
    with pytest.raises(UnsupportedType, match=r"\.xlsx"):
        sniff.sniff_media_type(xls, "t.xls")


def test_delimited_text_is_csv_or_tsv_and_prose_is_plain_text() -> None:
    assert sniff.sniff_media_type(b"Time;Mon;Tue\n08:00;Maths;Art\n09:00;PE;Music\n") == sniff.CSV
    assert sniff.sniff_media_type("Zeit,Montag\n8:00,Mathe\n9:00,Französisch\n".encode("cp1252")) == sniff.CSV
    assert sniff.sniff_media_type(b"Time\tMon\n08:00\tMaths\n") == sniff.TSV
    prose = b"Monday: Maths, then English\nTuesday: Art\nWednesday: PE, Music, and Drama after lunch\n"
    assert sniff.sniff_media_type(prose, "t.csv") == sniff.TEXT


def test_empty_and_whitespace_only() -> None:
    with pytest.raises(EmptyDocument):
        sniff.sniff_media_type(b"", "t.pdf")
    with pytest.raises(EmptyDocument):
        sniff.sniff_media_type(b"  \n\t \n", "t.csv")


def test_unknown_binary_names_what_it_looks_like() -> None:
    import gzip

    with pytest.raises(UnsupportedType, match="GZ") as caught:
        sniff.sniff_media_type(gzip.compress(b"x" * 100), "t.pdf")
    assert "'t.pdf'" in caught.value.message
    with pytest.raises(UnsupportedType, match="SVG"):
        sniff.sniff_media_type(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    with pytest.raises(UnsupportedType):
        sniff.sniff_media_type(bytes(range(256)) * 4)


def test_html_pages_and_xhtml_exports_are_sniffed_as_html() -> None:
    assert sniff.sniff_media_type(b"<!DOCTYPE html><html><body>hi</body></html>", "t.pdf") == sniff.HTML
    xhtml = b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "x">\n<html>'
    assert sniff.sniff_media_type(xhtml) == sniff.HTML
    assert sniff.sniff_media_type(b"<!-- exported -->\n<table><tr><td>Mon</td></tr></table>") == sniff.HTML
    # XML that is not HTML stays unsupported.
    with pytest.raises(UnsupportedType, match="XML"):
        sniff.sniff_media_type(b'<?xml version="1.0"?>\n<timetable><day/></timetable>')
