"""Readers: one document in, one ``Layout`` out, chosen by the sniffed media type.

Digital documents are read here (PDF text layer, DOCX, XLSX, CSV/TSV, plain text); images and PDFs
without a text layer go to the OCR reader in ``readers.image``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from timetable_platform.domain.layout import Layout
from timetable_platform.extraction import sniff
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import ExtractionError, UnsupportedType
from timetable_platform.extraction.safety import check_ooxml_archive, check_size


def read_layout(document: Document, limits: Limits) -> Layout:
    """The layout of ``document``; raises an ``ExtractionError`` subclass for anything a user must fix."""
    check_size(document.content, limits)
    media_type = document.media_type
    if media_type == sniff.PDF:
        from timetable_platform.extraction.readers import pdf

        info = pdf.inspect_pdf(document.content, limits)
        if not info.has_text_layer:
            return _ocr_reader().read_scanned_pdf_layout(document, limits)
        layout, image_pages = pdf.read_pdf_pages(document, limits, info)
        if pdf.is_garbled(layout):
            # Fonts without a Unicode map: the text layer is unreadable, so every page is read as an image.
            image_pages = [page.number for page in layout.pages]
        if image_pages:
            return _with_ocr_pages(layout, image_pages, document, limits)
        return layout
    if sniff.is_image(media_type):
        return _ocr_reader().read_image_layout(document, limits)
    if media_type == sniff.DOCX:
        check_ooxml_archive(document.content, limits)
        from timetable_platform.extraction.readers import docx

        layout = docx.read_docx_layout(document, limits)
        if not any(page.tables for page in layout.pages):
            # No table in the text: the timetable may be a pasted picture (screenshot, scan).
            pictures = docx.read_docx_images(document)
            if pictures:
                return _with_ocr_pictures(layout, pictures, limits)
        return layout
    if media_type == sniff.XLSX:
        check_ooxml_archive(document.content, limits)
        from timetable_platform.extraction.readers import xlsx

        return xlsx.read_xlsx_layout(document, limits)
    if media_type in (sniff.CSV, sniff.TSV):
        from timetable_platform.extraction.readers import csv

        return csv.read_csv_layout(document, limits)
    if media_type == sniff.HTML:
        from timetable_platform.extraction.readers import html

        return html.read_html_layout(document, limits)
    if media_type == sniff.TEXT:
        from timetable_platform.extraction.readers import csv

        return csv.read_text_layout(document, limits)
    raise UnsupportedType(f"Documents of type {media_type} are not supported.")


def read_document(content: bytes, filename: str | None, limits: Limits) -> tuple[Document, Layout]:
    """Sniff, check limits and read in one call (what the CLI and the layout stage need)."""
    check_size(content, limits)
    document = Document(
        content=content, media_type=sniff.sniff_media_type(content, filename), filename=filename
    )
    return document, read_layout(document, limits)


def _with_ocr_pages(layout: Layout, page_numbers: list[int], document: Document, limits: Limits) -> Layout:
    """Replace the pages that are pictures (scans, pasted screenshots) with their OCR reading."""
    from timetable_platform.extraction.readers.pdf import page_paragraphs

    try:
        ocr = _ocr_reader()
    except UnsupportedType:
        layout.warnings.append(
            "pages needing OCR were read from the text layer only: the OCR reader is not installed"
        )
        return layout
    scanned = ocr.read_scanned_pdf_layout(document, limits)
    by_number = {page.number: page for page in scanned.pages}
    pages = [
        by_number.get(page.number, page) if page.number in page_numbers else page for page in layout.pages
    ]
    return Layout(
        pages=pages,
        media_type=layout.media_type,
        reader=f"{layout.reader}+{scanned.reader}",
        languages=scanned.languages,
        paragraphs=page_paragraphs(pages),
        warnings=[*layout.warnings, *scanned.warnings],
    )


def _with_ocr_pictures(layout: Layout, pictures: list[bytes], limits: Limits) -> Layout:
    """Append the OCR reading of pictures embedded in an office document as further pages."""
    try:
        ocr = _ocr_reader()
    except UnsupportedType:
        layout.warnings.append("the document holds pictures but the OCR reader is not installed")
        return layout
    pages = list(layout.pages)
    warnings = list(layout.warnings)
    languages = list(layout.languages)
    paragraphs = list(layout.paragraphs)
    readers = [layout.reader]
    for picture in pictures[: max(0, limits.max_pages - len(pages))]:
        try:
            image = Document(content=picture, media_type=sniff.sniff_media_type(picture))
        except ExtractionError:
            continue
        if not sniff.is_image(image.media_type):
            continue
        try:
            read = ocr.read_image_layout(image, limits)
        except ExtractionError as exc:
            warnings.append(f"an embedded picture could not be read: {exc.message}")
            continue
        for page in read.pages:
            page.number = len(pages) + 1
            pages.append(page)
        warnings.extend(read.warnings)
        paragraphs.extend(read.paragraphs)
        if read.reader not in readers:
            readers.append(read.reader)
        languages.extend(code for code in read.languages if code not in languages)
    if len(pages) == len(layout.pages):
        return layout
    return Layout(
        pages=pages,
        media_type=layout.media_type,
        reader="+".join(readers),
        languages=languages,
        paragraphs=paragraphs,
        warnings=warnings,
    )


def _ocr_reader() -> ModuleType:
    try:
        return importlib.import_module("timetable_platform.extraction.readers.image")
    except ModuleNotFoundError as exc:
        if exc.name != "timetable_platform.extraction.readers.image":
            raise
        raise UnsupportedType(
            "This document needs OCR (an image or a PDF without a text layer), but the OCR reader is not installed."
        ) from exc
