"""The layout stage on Google Document AI (``TIMETABLE_LAYOUT_BACKEND=documentai``).

PDFs and images go to the processor as raw bytes (``processors.process``); office formats have an
exact structure already and go to the embedded readers. The returned ``Document`` is mapped into the
project's ``Layout`` (``document_to_layout``) so the same grid interpretation reads it. PDFs over the
synchronous page limit are split with pypdfium2 and the chunks' layouts joined.
"""

from __future__ import annotations

import bisect
import io
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from timetable_platform.domain.layout import BBox, Cell, Layout, Line, Page, Table, Word
from timetable_platform.extraction import sniff
from timetable_platform.extraction.base import Document, Limits, StageResult
from timetable_platform.extraction.errors import BackendError, CorruptDocument
from timetable_platform.extraction.pricing import documentai_cost
from timetable_platform.reading.geometry import union_boxes
from timetable_platform.reading.interpret import interpret

if TYPE_CHECKING:
    from google.cloud import documentai

    from timetable_platform.settings import Settings

# Document AI's online processing accepts these; anything else goes to the embedded readers.
_SENT_AS_BYTES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "image/gif",
    "image/bmp",
    "image/webp",
)
# Online processing refuses images over 40 megapixels (PDF pages are exempt).
IMAGE_MAX_PIXELS = 40_000_000
# Layout.orientation enum: PAGE_UP=1, PAGE_RIGHT=2, PAGE_DOWN=3, PAGE_LEFT=4 -> text rotation in degrees.
_ROTATION = {1: 0, 2: 90, 3: 180, 4: 270}


# --------------------------------------------------------------------------- Document -> Layout


def _anchor_ranges(layout: Any) -> list[tuple[int, int]]:
    anchor = layout.text_anchor
    return [(int(s.start_index), int(s.end_index)) for s in anchor.text_segments] if anchor else []


def _anchor_text(text: str, layout: Any) -> str:
    return "".join(text[a:b] for a, b in _anchor_ranges(layout))


def _bbox(layout: Any, width: float, height: float) -> BBox | None:
    poly = layout.bounding_poly
    if poly is None:
        return None
    if poly.normalized_vertices and width and height:
        xs = [v.x * width for v in poly.normalized_vertices]
        ys = [v.y * height for v in poly.normalized_vertices]
    elif poly.vertices:
        xs = [float(v.x) for v in poly.vertices]
        ys = [float(v.y) for v in poly.vertices]
    else:
        return None
    return BBox(min(xs), min(ys), max(xs), max(ys))


def _confidence(layout: Any) -> float:
    value = float(layout.confidence or 0.0)
    return value if 0.0 < value <= 1.0 else 1.0  # 0 means "not reported" in proto3


class _PageText:
    """The page's tokens as words, findable by their position in ``document.text``."""

    def __init__(self, text: str, page: Any, width: float, height: float) -> None:
        self.text = text
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.words: list[Word] = []
        for token in page.tokens:
            ranges = _anchor_ranges(token.layout)
            raw = "".join(text[a:b] for a, b in ranges)
            box = _bbox(token.layout, width, height)
            if not raw.strip() or box is None or not ranges:
                continue
            self.starts.append(ranges[0][0])
            self.ends.append(ranges[-1][1])
            rotation = _ROTATION.get(int(token.layout.orientation or 1), 0)
            self.words.append(Word(raw.strip(), box, _confidence(token.layout), rotation))
        order = sorted(range(len(self.words)), key=lambda i: self.starts[i])
        self.starts = [self.starts[i] for i in order]
        self.ends = [self.ends[i] for i in order]
        self.words = [self.words[i] for i in order]

    def indices_in(self, ranges: Sequence[tuple[int, int]]) -> list[int]:
        out: list[int] = []
        for a, b in ranges:
            out.extend(range(bisect.bisect_left(self.starts, a), bisect.bisect_left(self.starts, b)))
        return out

    def lines_in(self, ranges: Sequence[tuple[int, int]]) -> list[Line]:
        """The words inside ``ranges`` grouped into lines where the text breaks the line."""
        lines: list[Line] = []
        current: list[Word] = []
        previous_end: int | None = None
        for i in self.indices_in(ranges):
            if current and previous_end is not None and "\n" in self.text[previous_end - 1 : self.starts[i]]:
                lines.append(_line(current))
                current = []
            current.append(self.words[i])
            previous_end = self.ends[i]
        if current:
            lines.append(_line(current))
        return lines


def _line(words: list[Word]) -> Line:
    return Line(words=list(words), bbox=union_boxes(w.bbox for w in words))


def _table(raw: Any, text: str, tokens: _PageText, width: float, height: float) -> Table | None:
    """A Document AI table (header rows, then body rows; cells with spans) as a slot grid."""
    rows = [*raw.header_rows, *raw.body_rows]
    taken: set[tuple[int, int]] = set()  # slots covered by cells placed earlier (row spans)
    cells: list[Cell] = []
    n_cols = 0
    for r, row in enumerate(rows):
        c = 0
        for raw_cell in row.cells:
            while (r, c) in taken:
                c += 1
            rowspan = max(1, int(raw_cell.row_span or 1))
            colspan = max(1, int(raw_cell.col_span or 1))
            ranges = _anchor_ranges(raw_cell.layout)
            lines = tokens.lines_in(ranges)
            cell_text = (
                "\n".join(line.text for line in lines)
                if lines
                else _anchor_text(text, raw_cell.layout).strip()
            )
            cells.append(
                Cell(
                    row=r,
                    col=c,
                    text=cell_text,
                    rowspan=rowspan,
                    colspan=colspan,
                    bbox=_bbox(raw_cell.layout, width, height),
                    lines=lines,
                    confidence=_confidence(raw_cell.layout),
                )
            )
            for dr in range(rowspan):
                for dc in range(colspan):
                    taken.add((r + dr, c + dc))
            c += colspan
            n_cols = max(n_cols, c)
    if not cells:
        return None
    n_rows = max(len(rows), max(cell.row_end for cell in cells))
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, bbox=_bbox(raw.layout, width, height))


def document_to_layout(document: documentai.Document, *, media_type: str | None = None) -> Layout:
    """Map a Document AI ``Document`` into the project's layout model (coordinates in page units)."""
    text = document.text or ""
    pages: list[Page] = []
    paragraphs: list[str] = []
    languages: dict[str, float] = {}
    for index, raw_page in enumerate(document.pages):
        width = float(raw_page.dimension.width or 0.0)
        height = float(raw_page.dimension.height or 0.0)
        tokens = _PageText(text, raw_page, width, height)
        lines = []
        for raw_line in raw_page.lines:
            found = tokens.indices_in(_anchor_ranges(raw_line.layout))
            if found:
                lines.append(_line([tokens.words[i] for i in found]))
        tables = [t for raw in raw_page.tables if (t := _table(raw, text, tokens, width, height)) is not None]
        page = Page(
            number=int(raw_page.page_number or index + 1),
            width=width,
            height=height,
            words=list(tokens.words),
            lines=lines,
            tables=tables,
        )
        pages.append(page)
        table_boxes = [t.bbox for t in tables if t.bbox is not None]
        for raw_paragraph in raw_page.paragraphs:
            box = _bbox(raw_paragraph.layout, width, height)
            inside = box is not None and any(_mostly_inside(box, t) for t in table_boxes)
            paragraph = " ".join(_anchor_text(text, raw_paragraph.layout).split())
            if paragraph and not inside:
                paragraphs.append(paragraph)
        for language in raw_page.detected_languages:
            code = (language.language_code or "").split("-")[0].lower()
            if code:
                languages[code] = languages.get(code, 0.0) + float(language.confidence or 0.0)
    return Layout(
        pages=pages,
        media_type=media_type or document.mime_type or "application/pdf",
        reader="documentai",
        languages=sorted(languages, key=lambda code: -languages[code]),
        paragraphs=paragraphs,
    )


def _mostly_inside(box: BBox, outer: BBox) -> bool:
    cx, cy = box.center
    return outer.contains_point(cx, cy)


def join_layouts(parts: Sequence[Layout]) -> Layout:
    """Chunks of one PDF, processed separately, as one layout with pages numbered through."""
    pages: list[Page] = []
    for part in parts:
        offset = len(pages)
        for page in part.pages:
            page.number = offset + page.number
            pages.append(page)
    languages: list[str] = list(dict.fromkeys(code for part in parts for code in part.languages))
    return Layout(
        pages=pages,
        media_type=parts[0].media_type if parts else "application/pdf",
        reader="documentai",
        languages=languages,
        paragraphs=[p for part in parts for p in part.paragraphs],
        warnings=list(dict.fromkeys(w for part in parts for w in part.warnings)),
    )


# --------------------------------------------------------------------------- PDF chunks


def pdf_chunks(content: bytes, pages_per_chunk: int) -> tuple[int, list[bytes]]:
    """(page count, the PDF cut into documents of at most ``pages_per_chunk`` pages)."""
    import pypdfium2

    from timetable_platform.extraction.readers.pdf import PDFIUM_LOCK

    with PDFIUM_LOCK:
        try:
            source = pypdfium2.PdfDocument(content)
        except pypdfium2.PdfiumError as exc:
            raise CorruptDocument("The PDF cannot be opened.", detail=str(exc)) from exc
        try:
            count = len(source)
            if count <= pages_per_chunk:
                return count, [content]
            chunks = []
            for first in range(0, count, pages_per_chunk):
                part = pypdfium2.PdfDocument.new()
                try:
                    part.import_pages(source, list(range(first, min(count, first + pages_per_chunk))))
                    buffer = io.BytesIO()
                    part.save(buffer)
                    chunks.append(buffer.getvalue())
                finally:
                    part.close()
            return count, chunks
        finally:
            source.close()


# --------------------------------------------------------------------------- the extractor


class DocumentAILayoutExtractor:
    """``LayoutExtractor`` on a Document AI processor (Form Parser or Layout Parser)."""

    name = "documentai"

    def __init__(
        self,
        *,
        project: str | None,
        location: str = "us",
        processor_id: str | None,
        processor_version: str | None = None,
        endpoint: str | None = None,
        sync_page_limit: int = 15,
        max_retries: int = 3,
        timeout_seconds: float = 120.0,
        retry_initial_seconds: float = 1.0,
        retry_maximum_seconds: float = 30.0,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.project = project
        self.location = location
        self.processor_id = processor_id
        self.processor_version = processor_version
        self.endpoint = endpoint or f"{location}-documentai.googleapis.com"
        self.sync_page_limit = max(1, sync_page_limit)
        self.max_retries = max(0, max_retries)
        self.timeout_seconds = timeout_seconds
        self.retry_initial_seconds = retry_initial_seconds
        self.retry_maximum_seconds = retry_maximum_seconds
        self._client_factory = client_factory
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> DocumentAILayoutExtractor:
        options: dict[str, Any] = {
            "project": settings.documentai_project,
            "location": settings.documentai_location,
            "processor_id": settings.documentai_processor_id,
            "processor_version": settings.documentai_processor_version,
            "endpoint": settings.documentai_endpoint,
            "sync_page_limit": settings.documentai_sync_page_limit,
            "max_retries": settings.documentai_max_retries,
            "retry_initial_seconds": settings.documentai_retry_initial_seconds,
            "timeout_seconds": settings.documentai_timeout_seconds,
        }
        options.update(overrides)
        return cls(**options)

    # -- the processor

    @property
    def processor_name(self) -> str:
        name = f"projects/{self.project}/locations/{self.location}/processors/{self.processor_id}"
        return f"{name}/processorVersions/{self.processor_version}" if self.processor_version else name

    def _client_or_raise(self) -> Any:
        if not self.project or not self.processor_id:
            raise BackendError(
                "Document AI is not configured: set TIMETABLE_DOCUMENTAI_PROJECT and "
                "TIMETABLE_DOCUMENTAI_PROCESSOR_ID (or TIMETABLE_LAYOUT_BACKEND=embedded).",
                transient=False,
            )
        if self._client is None:
            self._client = self._client_factory() if self._client_factory else self._make_client()
        return self._client

    def _make_client(self) -> Any:
        from google.api_core.client_options import ClientOptions
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import documentai

        options = ClientOptions(api_endpoint=self.endpoint)
        if self.endpoint.startswith("http://"):
            # A local endpoint (an emulator or test server) speaks REST over plain HTTP without auth.
            from google.auth.credentials import AnonymousCredentials

            return documentai.DocumentProcessorServiceClient(
                credentials=AnonymousCredentials(), transport="rest", client_options=options
            )
        try:
            return documentai.DocumentProcessorServiceClient(client_options=options)
        except DefaultCredentialsError as exc:
            raise BackendError(
                "Document AI credentials not found: set GOOGLE_APPLICATION_CREDENTIALS to a service "
                "account key file (role Document AI API User) or run on a machine with a service account.",
                detail=str(exc),
                transient=False,
            ) from exc

    def _retry(self) -> Any:
        """api_core retry of transient errors (429, 500, 503, 504, lost connections), at most ``max_retries`` times."""
        from google.api_core import exceptions as gexc
        from google.api_core import retry as gretry

        retried = [0]

        def transient(exc: Exception) -> bool:
            if not _is_transient(exc, gexc) or retried[0] >= self.max_retries:
                return False
            retried[0] += 1
            return True

        return gretry.Retry(
            predicate=transient,
            initial=self.retry_initial_seconds,
            maximum=self.retry_maximum_seconds,
            multiplier=2.0,
            timeout=self.timeout_seconds * (self.max_retries + 1),
        )

    def process(self, content: bytes, mime_type: str) -> documentai.Document:
        """One synchronous ``process`` call; errors become ``BackendError`` with a message for people."""
        from google.api_core import exceptions as gexc
        from google.cloud import documentai

        client = self._client_or_raise()
        request = documentai.ProcessRequest(
            name=self.processor_name,
            raw_document=documentai.RawDocument(content=content, mime_type=mime_type),
            skip_human_review=True,
        )
        try:
            response = client.process_document(
                request=request, retry=self._retry(), timeout=self.timeout_seconds
            )
        except Exception as exc:
            raise _backend_error(exc, gexc, attempts=self.max_retries + 1) from exc
        return response.document

    # -- LayoutExtractor

    def extract(self, document: Document, limits: Limits) -> StageResult:
        started = time.perf_counter()
        if document.media_type not in _SENT_AS_BYTES:
            return self._embedded(document, limits, started)
        if document.media_type == sniff.PDF:
            page_count, chunks = pdf_chunks(document.content, self.sync_page_limit)
        else:
            page_count, chunks = 1, [fit_image(document.content, document.media_type, limits)]
        warnings: list[str] = []
        parts = []
        for content, mime_type in (c if isinstance(c, tuple) else (c, document.media_type) for c in chunks):
            parts.append(document_to_layout(self.process(content, mime_type), media_type=document.media_type))
        layout = join_layouts(parts)
        if len(chunks) > 1:
            warnings.append(
                f"Document AI: {page_count} pages sent in {len(chunks)} requests of at most {self.sync_page_limit}"
            )
        layout.warnings.extend(warnings)
        timetable = interpret(layout)
        confidence = _page_confidence(layout)
        for entry in timetable.entries:
            if entry.confidence is None:
                entry.confidence = confidence.get(entry.page or 0, confidence.get(0, 1.0))
        pages = len(layout.pages) or page_count
        return StageResult(
            timetable=timetable,
            backend=self.name,
            seconds=time.perf_counter() - started,
            layout=layout,
            pages=pages,
            cost_usd=documentai_cost(pages),
            warnings=[*layout.warnings, *(w for w in timetable.warnings if w not in layout.warnings)],
        )

    def _embedded(self, document: Document, limits: Limits, started: float) -> StageResult:
        """Office formats carry their table structure exactly: the embedded readers, at no cost."""
        from timetable_platform.extraction.embedded import EmbeddedLayoutExtractor

        stage = EmbeddedLayoutExtractor().extract(document, limits)
        stage.seconds = time.perf_counter() - started
        return stage


def fit_image(content: bytes, media_type: str, limits: Limits) -> tuple[bytes, str]:
    """The image as sent: unchanged within ``IMAGE_MAX_PIXELS``, else scaled down to it (PNG)."""
    from PIL import Image

    from timetable_platform.extraction.ocr.preprocess import decode_image

    with Image.open(io.BytesIO(content)) as probe:  # header only: no pixels decoded yet
        width, height = probe.size
    if width * height <= IMAGE_MAX_PIXELS:
        return content, media_type
    image = decode_image(content, limits)[0]  # safe decoding (pixel limit, corrupt files)
    scale = (IMAGE_MAX_PIXELS / (width * height)) ** 0.5
    image = image.resize((max(1, int(width * scale)), max(1, int(height * scale))), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), "image/png"


def _page_confidence(layout: Layout) -> dict[int, float]:
    """Mean confidence of the table cells (else words) per page; key 0 is the whole document."""
    by_page: dict[int, float] = {}
    everything: list[float] = []
    for page in layout.pages:
        values = [c.confidence for t in page.tables for c in t.cells if c.text] or [
            w.confidence for w in page.words
        ]
        if values:
            by_page[page.number] = sum(values) / len(values)
            everything.extend(values)
    if everything:
        by_page[0] = sum(everything) / len(everything)
    return by_page


def _is_transient(exc: Exception, gexc: Any) -> bool:
    import requests

    if isinstance(exc, gexc.TooManyRequests | gexc.ResourceExhausted):
        return True
    if isinstance(
        exc, gexc.InternalServerError | gexc.ServiceUnavailable | gexc.GatewayTimeout | gexc.DeadlineExceeded
    ):
        return True
    if isinstance(exc, gexc.BadGateway):
        return True
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


def _status(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc)
    return f"{int(code)} {message}" if isinstance(code, int) else message


def _backend_error(exc: Exception, gexc: Any, *, attempts: int) -> BackendError:
    from google.auth.exceptions import GoogleAuthError

    if isinstance(exc, BackendError):
        return exc
    detail = _status(exc)
    if isinstance(exc, GoogleAuthError):  # a 401 made the client refresh credentials, and that failed
        return BackendError(
            f"Document AI credentials were refused and could not be refreshed ({detail}); check "
            "GOOGLE_APPLICATION_CREDENTIALS.",
            detail=detail,
            transient=False,
        )
    if isinstance(exc, gexc.Unauthenticated | gexc.PermissionDenied | gexc.Unauthorized | gexc.Forbidden):
        return BackendError(
            "Document AI refused the credentials: check GOOGLE_APPLICATION_CREDENTIALS and that the service "
            f"account has the Document AI API User role on the project ({detail}).",
            detail=detail,
            transient=False,
        )
    if isinstance(exc, gexc.NotFound):
        return BackendError(
            f"Document AI processor not found: check TIMETABLE_DOCUMENTAI_PROJECT, _LOCATION and _PROCESSOR_ID ({detail}).",
            detail=detail,
            transient=False,
        )
    if isinstance(exc, gexc.TooManyRequests | gexc.ResourceExhausted):
        return BackendError(
            f"Document AI quota exhausted after {attempts} attempts ({detail}); raise the quota or retry later.",
            detail=detail,
            transient=False,
        )
    if isinstance(exc, gexc.BadRequest | gexc.InvalidArgument | gexc.FailedPrecondition):
        return BackendError(f"Document AI rejected the document ({detail}).", detail=detail, transient=False)
    if _is_transient(exc, gexc):
        return BackendError(
            f"Document AI is unavailable after {attempts} attempts ({detail}).", detail=detail, transient=True
        )
    if isinstance(exc, gexc.RetryError):
        return BackendError(f"Document AI did not answer in time ({detail}).", detail=detail, transient=True)
    return BackendError(
        f"Document AI failed ({type(exc).__name__}: {detail}).", detail=detail, transient=False
    )
