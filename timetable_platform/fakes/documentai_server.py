"""A local Document AI v1 REST server: ``POST /v1/{processor}:process`` as the real service answers it.

The answer is built from the document actually sent: the project's embedded reader reads the PDF
(pdfplumber) and ``layout_to_document`` writes what it saw as a Document AI ``Document`` JSON — one
text string, tokens / lines / paragraphs with text anchors and normalized bounding polygons, tables
with header and body rows and cells with row and column spans, detected languages, confidences.
Images are answered from ``image_layouts`` (a layout registered for those exact bytes) since OCR
would be slow and is not what is under test; with ``read_images`` (``timetable fakes``) other images are
read by the project's OCR reader (Tesseract).

Scripted behaviours: ``fail_next(status, n)`` answers the next n requests with a Google error JSON
(``{"error": {"code", "message", "status"}}``); ``page_limit`` rejects longer PDFs with 400 as the real
service does; ``requests`` records every request (path, mime type, pages).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from timetable_platform.domain.layout import BBox, Layout, Line, Page, Word
from timetable_platform.fakes import send_json, serve_http

GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


# --------------------------------------------------------------------------- Layout -> Document JSON


class _TextBuilder:
    """Accumulates ``document.text`` and hands out text anchors (int64 indices are JSON strings)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, text: str) -> tuple[int, int]:
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start, self.length

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _anchor(start: int, end: int) -> dict[str, Any]:
    segment: dict[str, Any] = {"endIndex": str(end)}
    if start:
        segment["startIndex"] = str(start)  # proto3 JSON omits zero values, as the service does
    return {"textSegments": [segment]}


def _poly(box: BBox, page: Page) -> dict[str, Any]:
    def clamp(v: float) -> float:
        return min(1.0, max(0.0, v))

    x0, x1 = clamp(box.x0 / page.width), clamp(box.x1 / page.width)
    y0, y1 = clamp(box.top / page.height), clamp(box.bottom / page.height)
    return {
        "vertices": [
            {"x": round(box.x0), "y": round(box.top)},
            {"x": round(box.x1), "y": round(box.top)},
            {"x": round(box.x1), "y": round(box.bottom)},
            {"x": round(box.x0), "y": round(box.bottom)},
        ],
        "normalizedVertices": [
            {"x": x0, "y": y0},
            {"x": x1, "y": y0},
            {"x": x1, "y": y1},
            {"x": x0, "y": y1},
        ],
    }


def _element(anchor: tuple[int, int], box: BBox, page: Page, confidence: float) -> dict[str, Any]:
    return {
        "textAnchor": _anchor(*anchor),
        "confidence": confidence,
        "boundingPoly": _poly(box, page),
        "orientation": "PAGE_UP",
    }


def _words_of(lines: list[Line], text: str, box: BBox | None) -> list[Line]:
    """Lines with words; a reader that gives only text gets word boxes spread over the cell's box."""
    if lines and all(line.words for line in lines):
        return lines
    if box is None or not text.strip():
        return []
    rows = [r for r in text.split("\n") if r.strip()]
    step = box.height / max(1, len(rows))
    out = []
    for i, row in enumerate(rows):
        top = box.top + i * step
        words = row.split()
        width = box.width / max(1, len(words))
        placed = [
            Word(w, BBox(box.x0 + k * width, top, box.x0 + (k + 1) * width, top + step))
            for k, w in enumerate(words)
        ]
        out.append(Line(words=placed, bbox=BBox(box.x0, top, box.x1, top + step)))
    return out


def layout_to_document(
    layout: Layout, *, mime_type: str, confidence: float = 0.97, language: str = "en"
) -> dict[str, Any]:
    """A Document AI ``Document`` (JSON, camelCase as the REST API sends it) describing ``layout``."""
    text = _TextBuilder()
    pages: list[dict[str, Any]] = []
    for page in layout.pages:
        tokens: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        paragraphs: list[dict[str, Any]] = []

        def emit_line(
            line: Line, page: Page = page, tokens: list = tokens, lines: list = lines
        ) -> tuple[int, int]:
            start = text.length
            for k, word in enumerate(line.words):
                sep = "\n" if k == len(line.words) - 1 else " "
                anchor = text.add(word.text + sep)
                tokens.append(
                    {
                        "layout": _element(anchor, word.bbox, page, confidence),
                        "detectedBreak": {"type": "SPACE"} if sep == " " else {},
                    }
                )
            anchor = (start, text.length)
            lines.append({"layout": _element(anchor, line.bbox, page, confidence)})
            return anchor

        table_boxes = [t.bbox for t in page.tables if t.bbox is not None]
        for line in page.lines:
            cx, cy = line.bbox.center
            if any(box.contains_point(cx, cy) for box in table_boxes):
                continue  # table text is emitted cell by cell below
            anchor = emit_line(line)
            paragraphs.append({"layout": _element(anchor, line.bbox, page, confidence)})

        tables: list[dict[str, Any]] = []
        for table in page.tables:
            rows: list[list[dict[str, Any]]] = [[] for _ in range(table.n_rows)]
            for cell in sorted(table.cells, key=lambda c: (c.row, c.col)):
                start = text.length
                for line in _words_of(cell.lines, cell.text, cell.bbox):
                    emit_line(line)
                box = cell.bbox or table.bbox or BBox(0, 0, page.width, page.height)
                layout = _element((start, text.length), box, page, confidence)
                rows[cell.row].append({"layout": layout, "rowSpan": cell.rowspan, "colSpan": cell.colspan})
            box = table.bbox or BBox(0, 0, page.width, page.height)
            tables.append(
                {
                    "layout": {
                        "boundingPoly": _poly(box, page),
                        "confidence": confidence,
                        "orientation": "PAGE_UP",
                    },
                    "headerRows": [{"cells": rows[0]}] if rows else [],
                    "bodyRows": [{"cells": r} for r in rows[1:]],
                }
            )
        pages.append(
            {
                "pageNumber": page.number,
                "dimension": {"width": page.width, "height": page.height, "unit": "pixels"},
                "layout": {
                    "boundingPoly": _poly(BBox(0, 0, page.width, page.height), page),
                    "confidence": confidence,
                },
                "detectedLanguages": [{"languageCode": language, "confidence": 0.98}],
                "tokens": tokens,
                "lines": lines,
                "paragraphs": paragraphs,
                "tables": tables,
            }
        )
    return {"mimeType": mime_type, "text": text.text, "pages": pages}


def scaled_layout(layout: Layout, factor: float) -> Layout:
    """``layout`` with every coordinate times ``factor`` (a PDF page's reading at an image's pixel size)."""
    from dataclasses import replace

    def box(b: BBox) -> BBox:
        return BBox(b.x0 * factor, b.top * factor, b.x1 * factor, b.bottom * factor)

    def line(ln: Line) -> Line:
        return Line(words=[replace(w, bbox=box(w.bbox)) for w in ln.words], bbox=box(ln.bbox))

    pages = []
    for page in layout.pages:
        tables = [
            replace(
                t,
                bbox=box(t.bbox) if t.bbox else None,
                cells=[
                    replace(c, bbox=box(c.bbox) if c.bbox else None, lines=[line(ln) for ln in c.lines])
                    for c in t.cells
                ],
            )
            for t in page.tables
        ]
        pages.append(
            replace(
                page,
                width=page.width * factor,
                height=page.height * factor,
                words=[replace(w, bbox=box(w.bbox)) for w in page.words],
                lines=[line(ln) for ln in page.lines],
                tables=tables,
                rulings=[box(r) for r in page.rulings],
            )
        )
    return replace(layout, pages=pages)


def read_pdf_layout(content: bytes) -> Layout:
    """What the fake 'sees' in a PDF: the project's text-layer reader."""
    return read_document_layout(content, "application/pdf")


def read_document_layout(content: bytes, media_type: str) -> Layout:
    """What the fake 'sees' in a document: the project's readers (OCR for images)."""
    from timetable_platform.extraction.base import Document, Limits
    from timetable_platform.extraction.readers import read_layout

    return read_layout(Document(content=content, media_type=media_type), Limits(max_pages=500))


def pdf_page_count(content: bytes) -> int:
    import pypdfium2

    from timetable_platform.extraction.readers.pdf import PDFIUM_LOCK

    with PDFIUM_LOCK:
        pdf = pypdfium2.PdfDocument(content)
        try:
            return len(pdf)
        finally:
            pdf.close()


# --------------------------------------------------------------------------- the server


@dataclass
class RecordedRequest:
    path: str
    mime_type: str
    pages: int | None
    size: int


@dataclass
class FakeDocumentAI:
    """State and script of one fake server; ``endpoint`` is what the client's ``api_endpoint`` gets."""

    endpoint: str = ""
    page_limit: int = 15
    language: str = "en"
    confidence: float = 0.97
    image_layouts: dict[bytes, Layout] = field(default_factory=dict)
    read_images: bool = False  # OCR images not in image_layouts (slow; for demos, not tests)
    requests: list[RecordedRequest] = field(default_factory=list)
    _failures: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def _next_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        raw = body.get("rawDocument") or {}
        content = base64.b64decode(raw.get("content", ""))
        mime_type = raw.get("mimeType", "")
        pages = pdf_page_count(content) if mime_type == "application/pdf" else None
        with self._lock:
            self.requests.append(RecordedRequest(path, mime_type, pages, len(content)))
        status = self._next_failure()
        if status is not None:
            return status, _error(
                status, f"scripted {GOOGLE_STATUS.get(status, 'ERROR').lower()} from the fake"
            )
        if not path.endswith(":process") or "/processors/" not in path:
            return 404, _error(404, f"unknown method {path}")
        if pages is not None and pages > self.page_limit:
            return 400, _error(
                400, f"Document pages in non-imageless mode exceed the limit: {self.page_limit} got {pages}."
            )
        if mime_type == "application/pdf":
            layout = read_pdf_layout(content)
        elif content in self.image_layouts:
            layout = self.image_layouts[content]
        elif self.read_images and mime_type.startswith("image/"):
            layout = read_document_layout(content, mime_type)
        else:
            return 400, _error(400, "Unsupported input file format.")
        document = layout_to_document(
            layout, mime_type=mime_type, confidence=self.confidence, language=self.language
        )
        return 200, {"document": document, "humanReviewStatus": {"state": "SKIPPED"}}


def _error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": GOOGLE_STATUS.get(status, "UNKNOWN")}}


def request_handler(fake: FakeDocumentAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload = fake.answer(self.path.split("?")[0], body)
            except Exception as exc:  # the fake must answer, as the real service would, with a 500
                status, payload = 500, _error(500, f"fake server error: {exc}")
            send_json(self, status, payload, content_type="application/json; charset=UTF-8")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve_documentai(**options: Any) -> Iterator[FakeDocumentAI]:
    """Run a fake on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeDocumentAI(**options)
    with serve_http(request_handler(fake), name="fake-documentai") as url:
        fake.endpoint = url
        yield fake
