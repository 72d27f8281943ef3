"""Print a generated document as PDF (reportlab), DOCX (python-docx), XLSX (openpyxl) or CSV.

Merged cells are real merges in every format that has them (reportlab SPAN, Word gridSpan/vMerge,
Excel merged ranges). Each renderer returns the file's bytes; ``write`` also writes the truth JSON.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from timetable_platform.domain.model import Source

from .layouts import IMAGE_FORMATS, GeneratedDocument, Heading, Paragraph

if TYPE_CHECKING:
    from PIL import Image

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "png": "image/png",
    "scan": "image/jpeg",
    "photo": "image/jpeg",
}
FORMATS = ("pdf", "docx", "xlsx", "csv")  # the default rotation: digital documents, fast to extract
# png: the PDF page rendered clean; scan and photo: that page through degrade.py
ALL_FORMATS = tuple(MEDIA_TYPES)
EXTENSIONS = {"scan": "jpg", "photo": "jpg"}
IMAGE_DPI = 150
_FIXED_TIME = datetime(2024, 9, 2, 8, 0, 0)


# --------------------------------------------------------------------------- PDF


def render_pdf(doc: GeneratedDocument) -> bytes:
    from reportlab import rl_config
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph as RLParagraph
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

    rl_config.invariant = 1  # no creation date or random id: same seed, same bytes
    buffer = io.BytesIO()
    page = landscape(A4)
    margin = 12 * mm
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=doc.truth.title or "",
        author="corpusgen",
    )
    styles = getSampleStyleSheet()
    cell_style = ParagraphStyle("cell", parent=styles["BodyText"], fontSize=8, leading=9.5)
    header_style = ParagraphStyle("head", parent=cell_style, fontName="Helvetica-Bold")
    flow: list[object] = []
    width = page[0] - 2 * margin
    for block in doc.blocks:
        if isinstance(block, Heading):
            flow.append(RLParagraph(escape(block.text), styles["Title" if block.level == 1 else "Heading2"]))
        elif isinstance(block, Paragraph):
            text = f"<b>{escape(block.text)}</b>" if block.bold else escape(block.text)
            flow.append(RLParagraph(text, styles["BodyText"]))
        else:
            data = []
            for r, row in enumerate(block.cells):
                out_row = []
                for c, lines in enumerate(row):
                    header = r < block.header_rows or c < block.header_cols
                    text = "<br/>".join(escape(line) for line in (lines or []))
                    out_row.append(RLParagraph(text, header_style if header else cell_style))
                data.append(out_row)
            first = 0.13 * width if block.header_cols else None
            rest = (width - (first or 0)) / (block.n_cols - (1 if first else 0))
            widths = ([first] if first else []) + [rest] * (block.n_cols - (1 if first else 0))
            commands: list[tuple[object, ...]] = [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, block.header_rows - 1), colors.HexColor("#e8e8e8")),
            ]
            if block.ruled:
                commands.append(("GRID", (0, 0), (-1, -1), 0.6, colors.black))
            for (r, c), (rs, cs) in block.spans.items():
                commands.append(("SPAN", (c, r), (c + cs - 1, r + rs - 1)))
            table = Table(data, colWidths=widths, repeatRows=block.header_rows)
            table.setStyle(TableStyle(commands))
            flow.append(table)
            flow.append(Spacer(1, 6 * mm))
    pdf.build(flow)
    return buffer.getvalue()


# --------------------------------------------------------------------------- DOCX


def render_docx(doc: GeneratedDocument) -> bytes:
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(12))
    document.core_properties.created = _FIXED_TIME
    document.core_properties.modified = _FIXED_TIME
    document.core_properties.author = "corpusgen"
    for block in doc.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level)
        elif isinstance(block, Paragraph):
            para = document.add_paragraph()
            para.add_run(block.text).bold = block.bold
        else:
            table = document.add_table(rows=block.n_rows, cols=block.n_cols)
            table.style = "Table Grid" if block.ruled else None
            # Merge first: python-docx moves the covered cells' paragraphs into the merged cell.
            for (r, c), (rs, cs) in block.spans.items():
                table.cell(r, c).merge(table.cell(r + rs - 1, c + cs - 1))
            # ``table.cell`` rebuilds the whole cell list on every call; fetch it once.
            all_cells = table._cells
            for r, row in enumerate(block.cells):
                for c, lines in enumerate(row):
                    if lines is None:
                        continue
                    cell = all_cells[r * block.n_cols + c]
                    for extra in cell.paragraphs[1:]:
                        extra._element.getparent().remove(extra._element)
                    header = r < block.header_rows or c < block.header_cols
                    for k, line in enumerate(lines):
                        para = cell.paragraphs[0] if k == 0 else cell.add_paragraph()
                        run = para.add_run(line)
                        run.font.size = Pt(9)
                        run.bold = header
            document.add_paragraph()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- XLSX


def render_xlsx(doc: GeneratedDocument) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.properties.created = _FIXED_TIME
    workbook.properties.modified = _FIXED_TIME
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Timetable"
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    row_at = 1
    max_cols = 1
    for block in doc.blocks:
        if isinstance(block, Heading | Paragraph):
            cell = sheet.cell(row=row_at, column=1, value=block.text)
            cell.font = Font(
                bold=isinstance(block, Heading) or block.bold, size=14 if isinstance(block, Heading) else 11
            )
            row_at += 1
            continue
        max_cols = max(max_cols, block.n_cols)
        for r, row in enumerate(block.cells):
            for c, lines in enumerate(row):
                cell = sheet.cell(row=row_at + r, column=1 + c)
                if lines:
                    cell.value = "\n".join(lines)
                cell.alignment = Alignment(wrap_text=True, vertical="center")
                if block.ruled:
                    cell.border = border
                if r < block.header_rows or c < block.header_cols:
                    cell.font = Font(bold=True)
        for (r, c), (rs, cs) in block.spans.items():
            sheet.merge_cells(
                start_row=row_at + r,
                start_column=1 + c,
                end_row=row_at + r + rs - 1,
                end_column=1 + c + cs - 1,
            )
        row_at += block.n_rows + 1
    for c in range(1, max_cols + 1):
        sheet.column_dimensions[get_column_letter(c)].width = 18
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- CSV


def render_csv(doc: GeneratedDocument) -> bytes:
    """A CSV export: the title row, then each table; a merged cell's text sits in its first slot."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for block in doc.blocks:
        if isinstance(block, Heading | Paragraph):
            writer.writerow([block.text])
            continue
        for row in block.cells:
            writer.writerow(["\n".join(lines) if lines else "" for lines in row])
        writer.writerow([])
    return buffer.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- images


def _rasterise(doc: GeneratedDocument) -> Image.Image:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(render_pdf(doc))
    try:
        if len(pdf) != 1:
            raise ValueError(f"{doc.name}: an image format needs a one-page document, got {len(pdf)} pages")
        return pdf[0].render(scale=IMAGE_DPI / 72).to_pil().convert("RGB")
    finally:
        pdf.close()


def render_png(doc: GeneratedDocument) -> bytes:
    buffer = io.BytesIO()
    _rasterise(doc).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _degraded(doc: GeneratedDocument, kind: str) -> bytes:
    """The clean page through the OCR engineer's ``degrade.py`` (``degrade_scan`` / ``degrade_photo``)."""
    import importlib
    import random

    try:
        degrade = importlib.import_module(f"{__package__}.degrade")
    except ModuleNotFoundError as exc:
        raise ValueError(f"the {kind} format needs tests/corpusgen/degrade.py") from exc
    result = getattr(degrade, f"degrade_{kind}")(_rasterise(doc), random.Random(doc.name))
    if isinstance(result, bytes):
        return result
    buffer = io.BytesIO()
    result.save(buffer, format="JPEG", quality=60)
    return buffer.getvalue()


def render_scan(doc: GeneratedDocument) -> bytes:
    return _degraded(doc, "scan")


def render_photo(doc: GeneratedDocument) -> bytes:
    return _degraded(doc, "photo")


RENDERERS = {
    "pdf": render_pdf,
    "docx": render_docx,
    "xlsx": render_xlsx,
    "csv": render_csv,
    "png": render_png,
    "scan": render_scan,
    "photo": render_photo,
}


def _pdf_pages(content: bytes) -> int:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(content)
    try:
        return len(pdf)
    finally:
        pdf.close()


def write(doc: GeneratedDocument, out_dir: Path) -> tuple[Path, Path]:
    """Write ``NAME.ext`` and ``NAME.json`` (truth with ``source`` filled from the bytes written)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    content = RENDERERS[doc.fmt](doc)
    path = out_dir / f"{doc.name}.{EXTENSIONS.get(doc.fmt, doc.fmt)}"
    path.write_bytes(content)
    truth = doc.truth.model_copy(
        update={
            "source": Source(
                filename=path.name,
                media_type=MEDIA_TYPES[doc.fmt],
                pages=_pdf_pages(content) if doc.fmt == "pdf" else (1 if doc.fmt in IMAGE_FORMATS else None),
                sha256=hashlib.sha256(content).hexdigest(),
            )
        }
    )
    truth_path = out_dir / f"{doc.name}.json"
    truth_path.write_text(json.dumps(truth.to_json_dict(), indent=2, ensure_ascii=False) + "\n")
    return path, truth_path
