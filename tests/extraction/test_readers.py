"""Readers turn real documents (built here, plus a few corpus files) into the layout model."""

from __future__ import annotations

import datetime as dt
import io
import sys
import types
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import RGBColor
from openpyxl.styles import Font, PatternFill
from reportlab.lib import colors, pdfencrypt
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from timetable_platform.domain.layout import Layout
from timetable_platform.domain.layout import Table as LayoutTable
from timetable_platform.extraction import sniff
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    TooLarge,
    UnsupportedType,
)
from timetable_platform.extraction.readers import read_document, read_layout
from timetable_platform.extraction.readers.xlsx import cell_text

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def _read(content: bytes, filename: str | None = None, limits: Limits | None = None) -> Layout:
    return read_document(content, filename, limits or Limits())[1]


def _spans(table: LayoutTable) -> dict[str, tuple[int, int, int, int]]:
    return {c.text.split("\n")[0]: (c.row, c.col, c.rowspan, c.colspan) for c in table.cells if c.text}


# ---------------------------------------------------------------- PDF


def _timetable_pdf() -> bytes:
    styles = getSampleStyleSheet()
    note = '<b>Maths</b><br/>Mr Smith<br/><font color="#ff0000"><i>bring calculator</i></font>'
    data = [
        ["Time", "Monday", "Tuesday"],
        ["09:00-10:00", Paragraph(note, styles["Normal"]), "English"],
        ["10:00-11:00", "", "Art"],
        ["11:00-11:20", "Break", ""],
    ]
    table = Table(data)
    table.setStyle(
        TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("SPAN", (1, 1), (1, 2)),
            ("SPAN", (1, 3), (2, 3)),
            ("BACKGROUND", (1, 3), (2, 3), colors.HexColor("#c9e0c9")),
        ])
    )  # fmt: skip
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=landscape(A4)).build(
        [Paragraph("Class 7B Timetable", styles["Title"]), Paragraph("Week A", styles["Normal"]), table]
    )
    return buf.getvalue()


def _text_pdf(pages: int = 1, encrypt: pdfencrypt.StandardEncryption | None = None, text: bool = True) -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=(400, 400), encrypt=encrypt)
    for number in range(pages):
        if text:
            page.drawString(50, 350, f"Monday Maths page {number + 1}")
        else:
            page.rect(50, 50, 100, 100, fill=1)
        page.showPage()
    page.save()
    return buf.getvalue()


def test_pdf_table_spans_texts_styles_background_and_caption() -> None:
    layout = _read(_timetable_pdf(), "upload.bin")
    assert layout.media_type == sniff.PDF and layout.reader == "pdfplumber"
    page = layout.pages[0]
    assert len(page.tables) == 1
    table = page.tables[0]
    assert (table.n_rows, table.n_cols) == (4, 3)
    assert table.caption == "Week A"
    spans = _spans(table)
    assert spans["Maths"] == (1, 1, 2, 1)  # merged over two periods: once, at its top-left slot
    assert spans["Break"] == (3, 1, 1, 2)
    assert spans["Art"] == (2, 2, 1, 1)
    # Each merged cell appears once; the slot grid maps every covered slot to it.
    assert sum(1 for c in table.cells if c.text.startswith("Maths")) == 1
    assert table.cell_at(2, 1) is table.cell_at(1, 1)
    maths = table.cell_at(1, 1)
    assert maths is not None
    assert [line.text for line in maths.lines] == ["Maths", "Mr Smith", "bring calculator"]
    styles = {w.text: w.style or "" for line in maths.lines for w in line.words}
    assert "bold" in styles["Maths"] and "bold" not in styles["Smith"]
    assert "#ff0000" in styles["calculator"] and "italic" in styles["calculator"]
    brk = table.cell_at(3, 2)
    assert brk is not None and brk.background == "#c9e0c9"
    # Text outside the table is paragraphs; the table's own text is not.
    assert layout.paragraphs == ["Class 7B Timetable", "Week A"]
    assert page.rulings and all(w.bbox.top < w.bbox.bottom for w in page.words)


def _spreadsheet_printout_pdf() -> bytes:
    """A one-hour-row sheet as spreadsheets print it: a merged lesson's fill painted row by row with
    no line between, and wrapped text centred on a row too short for it, spilling over both lines."""
    height = 400
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=(400, height))
    xs, ys = [50, 110, 210, 310], [100, 116, 132, 148, 164]  # top-down, as pdfplumber measures

    def y(top: float) -> float:
        return height - top

    page.setFillColor(colors.HexColor("#f8cbad"))
    for top, bottom in ((116, 132), (132, 148)):  # Monday 9h-11h, painted as two rows
        page.rect(xs[1], y(bottom), xs[2] - xs[1], bottom - top, stroke=0, fill=1)
    page.setStrokeColor(colors.grey)
    for x in xs:
        page.line(x, y(ys[0]), x, y(ys[-1]))
    for top in ys:
        if top == 132:  # the merged Monday cell has no line across it
            page.line(xs[0], y(top), xs[1], y(top))
            page.line(xs[2], y(top), xs[3], y(top))
        else:
            page.line(xs[0], y(top), xs[3], y(top))
    page.setFillColor(colors.black)
    page.setFont("Helvetica", 8)
    for text, x, top in (("Time", 55, 104), ("Monday", 115, 104), ("Tuesday", 215, 104), ("9h", 55, 120),
                         ("10h", 55, 136), ("11h", 55, 152), ("Chemistry", 115, 124),
                         ("Signal", 215, 127), ("Processing", 215, 136), ("HALL1", 215, 145)):  # fmt: skip
        page.drawString(x, y(top + 6), text)
    page.showPage()
    page.save()
    return buf.getvalue()


def test_pdf_spreadsheet_printout_keeps_merged_fills_and_overflowing_text_whole() -> None:
    page = _read(_spreadsheet_printout_pdf(), "sheet.pdf").pages[0]
    table = page.tables[0]
    # The two rows painted for the merged cell are one painted box, as the reader sees it.
    assert [(round(b.x0), round(b.top), round(b.x1), round(b.bottom)) for b in page.fills] == [(110, 116, 210, 148)]
    chemistry = next(c for c in table.cells if c.text == "Chemistry")
    assert (chemistry.row, chemistry.rowspan) == (1, 2)  # not cut in two at the seam of its fills
    tuesday = {c.row: c.text for c in table.cells if c.col == 2}
    assert tuesday[2] == "Signal\nProcessing\nHALL1"  # all of it, in the row it is centred on
    assert not tuesday.get(1) and not tuesday.get(3)


def test_fill_seams_are_not_rulings_but_hairlines_and_strokes_are() -> None:
    from timetable_platform.extraction.readers.pdf import rulings_without_fill_seams

    def rect(x0: float, top: float, x1: float, bottom: float, colour: tuple[float, ...]) -> dict[str, object]:
        return {"x0": x0, "x1": x1, "top": top, "bottom": bottom, "fill": True, "stroke": False,
                "non_stroking_color": colour}  # fmt: skip

    def edges(r: dict[str, object]) -> list[dict[str, object]]:
        x0, x1, top, bottom = r["x0"], r["x1"], r["top"], r["bottom"]
        base = {**r, "object_type": "rect_edge"}
        return [{**base, "orientation": "h", "top": top, "bottom": top},
                {**base, "orientation": "h", "top": bottom, "bottom": bottom},
                {**base, "orientation": "v", "x0": x0, "x1": x0},
                {**base, "orientation": "v", "x0": x1, "x1": x1}]  # fmt: skip

    pink, blue = (1.0, 0.8, 0.7), (0.6, 0.7, 0.9)
    upper, lower = rect(0, 0, 100, 20, pink), rect(0, 20, 100, 40, pink)
    other = rect(100, 20, 200, 40, blue)  # another colour beside it: a real boundary
    hair_a, hair_b = rect(0, 60, 200, 60.5, blue), rect(0, 60.5, 200, 61, blue)  # rules painted as thin fills
    fills = [upper, lower, other, hair_a, hair_b]
    vertical, horizontal = rulings_without_fill_seams([e for f in fills for e in edges(f)], fills)
    assert not [e for e in horizontal if e["top"] == 20 and e["x1"] <= 100]  # the pink seam is gone
    assert [e for e in horizontal if e["top"] == 20 and e["x0"] >= 100]  # the blue cell's top stays
    assert [e for e in vertical if e["x0"] == 100]  # pink meets blue: a boundary
    assert len([e for e in horizontal if 60 <= e["top"] <= 61]) == 4  # hairlines are rulings


def test_pdf_vertical_text_reads_in_order() -> None:
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=(400, 400))
    page.drawString(50, 350, "Timetable heading")
    page.saveState()
    page.translate(100, 100)
    page.rotate(90)
    page.drawString(0, 0, "Monday lessons")
    page.restoreState()
    page.saveState()
    page.translate(200, 300)
    page.rotate(-90)
    page.drawString(0, 0, "Tuesday lessons")
    page.restoreState()
    page.save()
    lines = {line.text: line for line in _read(buf.getvalue()).pages[0].lines}
    assert "Monday lessons" in lines and "Tuesday lessons" in lines
    assert {w.rotation for w in lines["Monday lessons"].words} == {90}
    assert {w.rotation for w in lines["Tuesday lessons"].words} == {270}
    assert {w.rotation for w in lines["Timetable heading"].words} == {0}


def test_pdf_big_period_number_close_before_small_times_is_a_word_of_its_own() -> None:
    """Untis-style labels print a big period number with its times in small print close after it: the
    print size changes between them, so they are two words, not the time '17:45'."""
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=(400, 400))
    page.setFont("Helvetica-Bold", 14)
    page.drawString(50, 300, "1")
    page.setFont("Helvetica", 5)
    page.drawString(59, 308, "7:45")
    page.drawString(59, 302, "8:30")
    page.setFont("Helvetica", 10)
    page.drawString(50, 200, "Maths 10:05")
    page.save()
    texts = [w.text for w in _read(buf.getvalue()).pages[0].words]
    assert "1" in texts and "7:45" in texts and "8:30" in texts and "17:45" not in texts
    # Print of one size still makes words at its spaces only.
    assert "Maths" in texts and "10:05" in texts


def test_pdf_page_turned_by_rotate_reads_as_displayed() -> None:
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=(300, 400))
    page.setPageRotation(90)  # a landscape timetable stored on a portrait page
    page.translate(250, 50)
    page.rotate(90)
    page.drawString(0, 0, "Heading upright when shown")
    page.save()
    shown = _read(buf.getvalue()).pages[0]
    assert (shown.width, shown.height) == (400, 300)
    assert [line.text for line in shown.lines] == ["Heading upright when shown"]
    assert all(w.rotation == 0 and w.bbox.x1 <= shown.width for w in shown.words)


def test_encrypted_pdf() -> None:
    content = _text_pdf(encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    with pytest.raises(EncryptedDocument, match="password"):
        _read(content)


def test_owner_password_only_pdf_is_readable() -> None:
    content = _text_pdf(encrypt=pdfencrypt.StandardEncryption("", ownerPassword="owner"))
    assert _read(content).paragraphs == ["Monday Maths page 1"]


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_pdf_is_corrupt(keep: float) -> None:
    content = _timetable_pdf()
    with pytest.raises(CorruptDocument):
        _read(content[: int(len(content) * keep)])


def test_page_and_size_limits() -> None:
    content = _text_pdf(pages=3)
    assert len(_read(content, limits=Limits(max_pages=3)).pages) == 3
    with pytest.raises(TooLarge, match="3 pages"):
        _read(content, limits=Limits(max_pages=2))
    with pytest.raises(TooLarge):
        _read(content, limits=Limits(max_bytes=len(content) - 1))


def test_pdf_without_text_layer_goes_to_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    fake = types.ModuleType("timetable_platform.extraction.readers.image")

    def scanned(document: Document, limits: Limits) -> Layout:
        calls.append(document.media_type)
        return Layout(pages=[], media_type=document.media_type, reader="fake-ocr")

    fake.read_scanned_pdf_layout = scanned  # type: ignore[attr-defined]
    fake.read_image_layout = scanned  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "timetable_platform.extraction.readers.image", fake)
    assert _read(_text_pdf(text=False)).reader == "fake-ocr"
    assert _read(_text_pdf()).reader == "pdfplumber"  # a text layer stays with pdfplumber
    assert calls == [sniff.PDF]


def _fake_ocr(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """An OCR module that marks each page it reads; returns the list of calls."""
    calls: list[int] = []
    fake = types.ModuleType("timetable_platform.extraction.readers.image")

    def scanned(document: Document, limits: Limits) -> Layout:
        calls.append(1)
        with_text = _read(_text_pdf(pages=2)).pages  # two real pages, relabelled as OCR output
        for page in with_text:
            page.words[0].text = "OCR"
        return Layout(pages=with_text, media_type=document.media_type, reader="fake-ocr")

    fake.read_scanned_pdf_layout = scanned  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "timetable_platform.extraction.readers.image", fake)
    return calls


def test_pasted_picture_page_is_read_by_ocr_and_text_pages_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=(400, 400))
    page.drawString(50, 350, "Monday Maths typed page")
    page.showPage()
    page.drawString(50, 380, "Our timetable (screenshot below)")
    page.drawImage(ImageReader(Image.new("RGB", (300, 250), "white")), 50, 50, 300, 250)
    page.showPage()
    page.showPage()  # a blank page needs no OCR
    page.save()
    calls = _fake_ocr(monkeypatch)
    layout = _read(buf.getvalue())
    assert calls == [1]
    assert layout.reader == "pdfplumber+fake-ocr"
    assert [p.words[0].text if p.words else None for p in layout.pages] == ["Monday", "OCR", None]


def test_text_pdf_with_a_blank_page_does_not_need_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=(400, 400))
    page.drawString(50, 350, "Monday Maths")
    page.showPage()
    page.showPage()
    page.save()
    calls = _fake_ocr(monkeypatch)
    assert _read(buf.getvalue()).reader == "pdfplumber" and calls == []


def test_missing_ocr_reader_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "timetable_platform.extraction.readers.image", None)
    with pytest.raises(UnsupportedType, match="OCR reader"):
        read_layout(Document(content=b"\x89PNG\r\n\x1a\n", media_type=sniff.PNG), Limits())


# ---------------------------------------------------------------- DOCX


def _shade(cell: docx.table._Cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _timetable_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Riverside School - Class 8C")
    document.add_paragraph("Week B")
    table = document.add_table(rows=4, cols=3)
    for c, text in enumerate(["Time", "Monday", "Tuesday"]):
        table.cell(0, c).text = text
    for r, text in enumerate(["09:00", "10:00", "11:00"], start=1):
        table.cell(r, 0).text = text
    double = table.cell(1, 1).merge(table.cell(2, 1))  # vMerge
    double.text = ""
    paragraph = double.paragraphs[0]
    paragraph.add_run("Science").bold = True
    paragraph.add_run().add_break()
    note = paragraph.add_run("Lab 2")
    note.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    table.cell(1, 2).text = "Art"
    table.cell(2, 2).text = "PE"
    wide = table.cell(3, 1).merge(table.cell(3, 2))  # gridSpan
    wide.text = "Lunch"
    _shade(wide, "D9D9D9")
    nested = table.cell(2, 2).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "Group 1"
    nested.cell(0, 1).text = "Group 2"
    document.add_paragraph("Monday 15:00 Chess club")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_merged_cells_styles_shading_caption_and_paragraphs() -> None:
    layout = _read(_timetable_docx(), "timetable.pdf")
    assert layout.media_type == sniff.DOCX and layout.reader == "python-docx"
    assert layout.paragraphs == ["Riverside School - Class 8C", "Week B", "Monday 15:00 Chess club"]
    page = layout.pages[0]
    outer, inner = page.tables
    assert (outer.n_rows, outer.n_cols) == (4, 3)
    assert outer.caption == "Week B"
    spans = _spans(outer)
    assert spans["Science"] == (1, 1, 2, 1)
    assert spans["Lunch"] == (3, 1, 1, 2)
    assert spans["PE"] == (2, 2, 1, 1)
    assert sum(1 for c in outer.cells if c.text.startswith("Science")) == 1
    science = outer.cell_at(2, 1)
    assert science is not None and [line.text for line in science.lines] == ["Science", "Lab 2"]
    assert science.lines[0].words[0].style == "bold"
    assert science.lines[1].words[0].style == "#c00000"
    lunch = outer.cell_at(3, 2)
    assert lunch is not None and lunch.background == "#d9d9d9"
    # Nested table: its own Table, and its text also inside the parent cell.
    assert [c.text for c in inner.cells] == ["Group 1", "Group 2"]
    pe = outer.cell_at(2, 2)
    assert pe is not None and pe.text == "PE\nGroup 1\nGroup 2"
    # Nominal geometry: cells of one row share a top; a span covers its columns.
    assert science.bbox is not None and lunch.bbox is not None
    assert lunch.bbox.width == 2 * science.bbox.width
    assert science.bbox.bottom > outer.cell_at(1, 2).bbox.bottom  # type: ignore[union-attr]


def test_macro_enabled_docx_is_read_like_docx() -> None:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_timetable_docx())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                    b"application/vnd.ms-word.document.macroEnabled.main+xml",
                )
            dst.writestr(info, data)
    layout = _read(out.getvalue(), "timetable.docm")
    assert layout.media_type == sniff.DOCX
    assert _spans(layout.pages[0].tables[0])["Science"] == (1, 1, 2, 1)


def test_docx_text_box_read_once() -> None:
    from docx.oxml import parse_xml

    document = docx.Document()
    paragraph = document.add_paragraph("Before the box")
    box = (
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        "<mc:AlternateContent><mc:Choice Requires=\"wps\"><w:txbxContent><w:p><w:r><w:t>Year 4 Timetable</w:t>"
        "</w:r></w:p></w:txbxContent></mc:Choice><mc:Fallback><w:txbxContent><w:p><w:r><w:t>Year 4 Timetable</w:t>"
        "</w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r>"
    )
    paragraph._p.append(parse_xml(box))
    buf = io.BytesIO()
    document.save(buf)
    assert _read(buf.getvalue()).paragraphs == ["Before the box", "Year 4 Timetable"]


def _docx_with_picture(size: tuple[int, int], with_table: bool) -> bytes:
    from PIL import Image

    document = docx.Document()
    document.add_paragraph("Year 2 timetable")
    if with_table:
        document.add_table(rows=2, cols=2).cell(0, 0).text = "Time"
    picture = io.BytesIO()
    Image.new("RGB", size, "white").save(picture, format="PNG")
    picture.seek(0)
    document.add_picture(picture)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_pasted_picture_goes_to_ocr_only_without_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    fake = types.ModuleType("timetable_platform.extraction.readers.image")

    def picture(document: Document, limits: Limits) -> Layout:
        calls.append(document.media_type)
        pages = _read(_text_pdf()).pages
        return Layout(pages=pages, media_type=document.media_type, reader="fake-ocr", paragraphs=["OCR"])

    fake.read_image_layout = picture  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "timetable_platform.extraction.readers.image", fake)
    layout = _read(_docx_with_picture((600, 400), with_table=False))
    assert calls == [sniff.PNG]
    assert layout.reader == "python-docx+fake-ocr"
    assert [p.number for p in layout.pages] == [1, 2]
    assert layout.paragraphs == ["Year 2 timetable", "OCR"]
    _read(_docx_with_picture((600, 400), with_table=True))  # the table is the timetable
    _read(_docx_with_picture((60, 40), with_table=False))  # a logo is not
    assert calls == [sniff.PNG]


def test_empty_docx() -> None:
    buf = io.BytesIO()
    docx.Document().save(buf)
    with pytest.raises(EmptyDocument):
        _read(buf.getvalue())


# ---------------------------------------------------------------- XLSX


def _timetable_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Class 9A"
    sheet["A1"] = "Timetable 9A - Autumn"
    sheet.merge_cells("A1:C1")
    sheet.append([])
    sheet.append(["Time", "Monday", "Tuesday"])
    sheet.append([dt.time(8, 50), "Maths\nR101", "History"])
    sheet.append([0.40625, None, "Music"])  # 09:45 as a fraction of a day
    sheet["A5"].number_format = "h:mm"
    sheet.append(["10:40", "Break", None])
    sheet.merge_cells("B4:B5")
    sheet.merge_cells("B6:C6")
    sheet["B4"].font = Font(bold=True, color="FFC00000")
    sheet["B6"].fill = PatternFill("solid", fgColor="FFC9E0C9")
    hidden = workbook.create_sheet("Secret")
    hidden["A1"] = "do not read"
    hidden["B1"] = "at all"
    hidden.sheet_state = "hidden"
    workbook.create_sheet("Empty")
    other = workbook.create_sheet("Week B")
    other.append(["Time", "Monday"])
    other.append(["08:50", "PE"])
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def test_xlsx_merges_times_titles_and_sheets() -> None:
    layout = _read(_timetable_xlsx(), "data.csv")
    assert layout.media_type == sniff.XLSX and layout.reader == "openpyxl"
    assert [p.tables[0].caption for p in layout.pages] == ["Class 9A", "Week B"]  # hidden + empty skipped
    assert "do not read" not in layout.text
    assert layout.paragraphs == ["Timetable 9A - Autumn"]
    table = layout.pages[0].tables[0]
    assert (table.n_rows, table.n_cols) == (4, 3)
    spans = _spans(table)
    assert spans["Maths"] == (1, 1, 2, 1)
    assert spans["Break"] == (3, 1, 1, 2)
    assert [table.cell_at(r, 0).text for r in range(4)] == ["Time", "08:50", "09:45", "10:40"]  # type: ignore[union-attr]
    maths = table.cell_at(2, 1)
    assert maths is not None and maths.text == "Maths\nR101"
    assert maths.lines[0].words[0].style == "bold #c00000"
    assert table.cell_at(3, 2).background == "#c9e0c9"  # type: ignore[union-attr]


def test_xlsx_too_many_sheets() -> None:
    workbook = openpyxl.Workbook()
    for index in range(3):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.append(["Time", f"Day {index}"])
    buf = io.BytesIO()
    workbook.save(buf)
    with pytest.raises(TooLarge):
        _read(buf.getvalue(), limits=Limits(max_pages=2))


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (dt.time(13, 5), "h:mm", "13:05"),
        (dt.datetime(1899, 12, 30, 8, 30), "h:mm", "08:30"),
        (0.5, "h:mm AM/PM", "12:00"),
        (3.0, "General", "3"),
        (8.3, "0.00", "8.30"),
        (dt.timedelta(hours=1, minutes=15), "[h]:mm", "01:15"),
        (dt.datetime(2024, 9, 2), "yyyy-mm-dd", "2024-09-02"),
    ],
)
def test_xlsx_cell_text(value: object, fmt: str, expected: str) -> None:
    assert cell_text(value, fmt) == expected


# ---------------------------------------------------------------- CSV / text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_encodings_and_delimiters(encoding: str) -> None:
    text = 'Zeit;Montag;Dienstag\n07:45-08:30;"Französisch\nHr. Müller";Mathe\n08:30-09:15;Kunst;\n'
    layout = _read(text.encode(encoding), "plan.xlsx")
    assert layout.media_type == sniff.CSV
    table = layout.pages[0].tables[0]
    assert (table.n_rows, table.n_cols) == (3, 3)
    cell = table.cell_at(1, 1)
    assert cell is not None and cell.text == "Französisch\nHr. Müller"
    assert table.cell_at(2, 2).text == ""  # type: ignore[union-attr]


def test_csv_title_rows_become_paragraphs() -> None:
    layout = _read(b"Timetable 7B,,\n\nTime,Mon,Tue\n9:00,Maths,Art\n10:00,PE,\n")
    assert layout.paragraphs == ["Timetable 7B"]
    table = layout.pages[0].tables[0]
    assert (table.n_rows, table.n_cols) == (3, 3)
    assert table.cell_at(0, 0).text == "Time"  # type: ignore[union-attr]


def test_plain_text_becomes_paragraphs() -> None:
    layout = _read(b"Monday\n09:00 Maths with Mr Smith\n\n10:00 English\n")
    assert layout.media_type == sniff.TEXT
    assert layout.paragraphs == ["Monday", "09:00 Maths with Mr Smith", "10:00 English"]


# ---------------------------------------------------------------- corpus


def _corpus(name: str) -> bytes:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path.read_bytes()


def test_corpus_pdf_double_periods_and_full_width_breaks() -> None:
    table = _read(_corpus("l5_pdf_001.pdf")).pages[0].tables[0]
    header = [c.text for c in table.cells if c.row == 1]
    assert header[2:] == ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
    double = [c for c in table.cells if c.rowspan == 2]
    assert double and all(c.text for c in double)
    breaks = [c for c in table.cells if c.text.upper() == "BREAK"]
    assert breaks and breaks[0].colspan == 5


def test_corpus_real_pdf_day_letters_and_column_spans() -> None:
    table = _read(_corpus("real/ly_2.pdf")).pages[0].tables[0]
    first_col = [c.text for c in table.cells if c.col == 0 and c.row >= 2]
    assert first_col[:2] == ["M\nO\nN", "T\nU\nE\nS"]  # stacked day letters, one per line
    assert any(c.colspan > 1 and "Maths" in c.text for c in table.cells)
    assert any("10.30-11.15" in c.text for c in table.cells)  # a time printed inside a cell


def test_corpus_docx_and_xlsx_double_periods() -> None:
    docx_table = _read(_corpus("l5_docx_001.docx")).pages[0].tables[0]
    assert any(c.rowspan == 2 and c.text.startswith("Maths") for c in docx_table.cells)
    xlsx_table = _read(_corpus("l5_xlsx_002.xlsx")).pages[0].tables[0]
    assert any(c.rowspan == 5 and c.text == "Break" for c in xlsx_table.cells)


def test_unmapped_glyph_text_layer_counts_as_garbled() -> None:
    from timetable_platform.domain.layout import BBox, Page, Word
    from timetable_platform.extraction.readers.pdf import is_garbled

    def layout_of(texts: list[str]) -> Layout:
        words = [Word(text=t, bbox=BBox(0, 0, 1, 1)) for t in texts]
        return Layout(pages=[Page(number=1, width=10, height=10, words=words)], media_type=sniff.PDF, reader="t")

    assert is_garbled(layout_of(["(cid:12)(cid:7)", "(cid:3)", "Maths"]))
    assert not is_garbled(layout_of(["Monday", "(cid:3)", "Maths"]))
    assert not is_garbled(layout_of([]))


def test_pdf_striped_table_keeps_the_rows_between_its_fills() -> None:
    """A zebra-striped table without rules: only every other row is a filled box, so the rows between
    the fills form no cell of their own; their words are still cells of the grid the fills draw."""
    from timetable_platform.domain.layout import BBox, Word
    from timetable_platform.extraction.readers.pdf import _convert_table

    xs, ys = (0.0, 100.0, 200.0), (0.0, 20.0, 40.0, 60.0)
    boxes = [(xs[c], ys[r], xs[c + 1], ys[r + 1]) for r in (0, 2) for c in (0, 1)]
    words = [
        Word(text, BBox(x + 10, y + 5, x + 60, y + 15))
        for text, x, y in (("Time", 0, 0), ("Mon", 100, 0), ("09:00", 0, 20), ("Art", 100, 20),
                           ("10:00", 0, 40), ("Maths", 100, 40))
    ]  # fmt: skip
    table = _convert_table(boxes, words, [])
    assert table is not None and (table.n_rows, table.n_cols) == (3, 2)
    assert [[table.cell_at(r, c).text for c in range(2)] for r in range(3)] == [  # type: ignore[union-attr]
        ["Time", "Mon"], ["09:00", "Art"], ["10:00", "Maths"]
    ]
