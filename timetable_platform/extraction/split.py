"""School-wide documents: one timetable per page, sheet or table, each with its owner.

A document is split only on evidence that its parts are separate timetables: two or more parts
(the pages of a paged document or the sheets of a workbook; else the tables of a one-page
document) each read as a timetable of their own, each has its own heading naming an owner, and
the owners differ. A timetable continued over two pages, weeks A and B on one page or a
single timetable with a repeated heading stays one timetable, exactly as before.

Each part is read by the same readers as a whole document (``reading.interpret`` for the layout
reading, the text stream for the second one), then reconciled like a whole document.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from timetable_platform.domain.days import parse_day
from timetable_platform.domain.layout import Layout, Page, Table
from timetable_platform.domain.model import Owner, Timetable
from timetable_platform.domain.school import owner_key
from timetable_platform.extraction.base import StageResult
from timetable_platform.extraction.errors import NoTimetableFound
from timetable_platform.reading.interpret import interpret
from timetable_platform.reading.owners import is_own_heading, owner_of

MIN_DAYS = 2  # a part with its own day axis shows at least two days
# A clock time as lesson lines print it ('08:00', '8.45', '14h05'); not '5A', which names a class.
_CLOCK = re.compile(r"(?<!\d)\d{1,2}[:.h]\d{2}(?!\d)")


@dataclass
class Part:
    """One page, sheet or table of a document, as a layout of its own."""

    layout: Layout
    headings: list[str]
    page: int | None  # the page number when the part is a whole page


def _lines_inside(page: Page, table: Table) -> Page:
    box = table.bbox
    words = [w for w in page.words if box is not None and box.intersects(w.bbox)]
    lines = [ln for ln in page.lines if box is not None and box.intersects(ln.bbox)]
    return Page(
        number=page.number, width=page.width, height=page.height, words=words, lines=lines, tables=[table]
    )


def title_rows(table: Table) -> list[str]:
    """Rows at the top of a table that are one cell spanning (nearly) the whole width: a name, not an axis."""
    out: list[str] = []
    for row in range(min(table.n_rows, 3)):
        cells = [c for c in table.cells if c.row == row and c.text.strip()]
        if len(cells) != 1 or cells[0].colspan < max(2, table.n_cols - 1):
            break
        out.append(" ".join(cells[0].text.split()))
    return out


def _sub_layout(layout: Layout, pages: list[Page], paragraphs: list[str]) -> Layout:
    return Layout(
        pages=pages, media_type=layout.media_type, reader=layout.reader, languages=list(layout.languages),
        paragraphs=paragraphs,
    )  # fmt: skip


def parts_of(layout: Layout) -> list[Part]:
    """The parts that may be separate timetables: pages (sheets) when there are several, else tables."""
    parts: list[Part] = []
    if len(layout.pages) >= 2:
        for page in layout.pages:
            sub = _sub_layout(layout, [page], [])
            sub.paragraphs = _outside_tables(page) if page.lines else []
            captions = [t.caption for t in page.tables if t.caption]
            rows = [r for t in page.tables[:1] for r in title_rows(t)]
            parts.append(Part(sub, leading_headings([*_above_tables(page), *captions, *rows]), page.number))
        return parts
    if len(layout.pages) == 1 and len(layout.pages[0].tables) >= 2:
        page = layout.pages[0]
        for table in page.tables:
            captions = [table.caption] if table.caption else []
            sub = _sub_layout(layout, [_lines_inside(page, table)], captions)
            parts.append(Part(sub, leading_headings([*captions, *title_rows(table)]), None))
    return parts


def leading_headings(texts: list[str]) -> list[str]:
    """The heading lines a part starts with: those before its first line with a time or a day name
    (a list-style page's first lesson line names a teacher, not the page's owner)."""
    out: list[str] = []
    for text in texts:
        words = text.split()
        if _CLOCK.search(text) or any(
            parse_day(w) for w in (x.strip(".,:;") for x in words) if len(w) >= 2 and w.isalpha()
        ):
            break
        out.append(text)
    return out


def _above_tables(page: Page) -> list[str]:
    """The lines printed above the page's first table (all its lines when it has none): never a
    table's own rows, so a table continued from the previous page has no heading."""
    boxes = [t.bbox for t in page.tables if t.bbox is not None]
    if not boxes:
        return [ln.text.strip() for ln in page.lines if ln.text.strip()]
    top = min(b.top for b in boxes)
    return [ln.text.strip() for ln in page.lines if ln.bbox.bottom <= top + 2 and ln.text.strip()]


def _outside_tables(page: Page) -> list[str]:
    boxes = [t.bbox for t in page.tables if t.bbox is not None]
    return [ln.text for ln in page.lines if ln.text.strip() and not any(b.intersects(ln.bbox) for b in boxes)]


@dataclass
class PartReading:
    part: Part
    timetable: Timetable
    owner: Owner


def read_parts(layout: Layout) -> list[PartReading] | None:
    """Each part's layout reading with its owner, or None when the document is one timetable."""
    parts = parts_of(layout)
    if len(parts) < 2:
        return None
    seen: dict[str, int] = {}
    for part in parts:
        for text in dict.fromkeys(h.strip() for h in part.headings if h.strip()):
            seen[text] = seen.get(text, 0) + 1
    repeated = {text for text, count in seen.items() if count > 1}
    # Cheap first: without two parts headed by names of their own there are not two owners, and
    # a one-timetable document is not read a second time part by part.
    if sum(1 for part in parts if any(is_own_heading(h, repeated) for h in part.headings)) < 2:
        return None
    readings = [(part, interpret(part.layout)) for part in parts]
    readings = [(part, tt) for part, tt in readings if tt.entries]
    if len(readings) < 2 or sum(1 for _, tt in readings if len({e.day for e in tt.entries}) >= MIN_DAYS) < 2:
        return None
    out: list[PartReading] = []
    for part, timetable in readings:
        owner = owner_of(timetable, part.headings, repeated)
        if owner is None:
            return None  # a part without a heading of its own: a continuation, not a timetable
        out.append(PartReading(part, timetable, owner))
    if len({owner_key(r.owner) for r in out}) < len(out):
        return None  # the same owner twice: one timetable over several pages or tables
    return out


def together(readings: list[PartReading]) -> Timetable:
    """The layout stage's reading of a school-wide document: every part's entries, in page order."""
    entries = [e.model_copy() for r in readings for e in r.timetable.entries]
    warnings = list(dict.fromkeys(w for r in readings for w in r.timetable.warnings))
    return Timetable(title=readings[0].timetable.title, entries=entries, warnings=warnings)


def _second_reading(reading: PartReading, interpreter_stage: StageResult) -> StageResult | None:
    """The interpreter's reading of one part: the text stream re-read on the part, or (for an
    interpreter that read the whole document, such as Claude) its entries printed on the part's page."""
    from timetable_platform.reading.textstream import read_text_stream

    started = time.perf_counter()
    if interpreter_stage.backend.startswith("textstream"):
        timetable = read_text_stream(reading.part.layout)
    elif reading.part.page is not None:
        entries = [e for e in interpreter_stage.timetable.entries if e.page == reading.part.page]
        timetable = Timetable(entries=[e.model_copy() for e in entries])
    else:
        return None
    if not timetable.entries:
        return None
    return StageResult(
        timetable=timetable, backend=interpreter_stage.backend, seconds=time.perf_counter() - started,
        layout=reading.part.layout, pages=interpreter_stage.pages,
    )  # fmt: skip


def split_timetables(
    layout_stage: StageResult,
    interpreter_stage: StageResult | None,
    *,
    mode: str,
    filename: str | None,
    media_type: str,
    sha256: str,
) -> list[Timetable] | None:
    """One reconciled timetable per owner, in document order; None for a one-timetable document."""
    from timetable_platform.extraction.pipeline import reconcile

    layout = layout_stage.layout
    if layout is None:
        return None
    readings = layout_stage.parts if layout_stage.parts is not None else read_parts(layout)
    if not readings:
        return None
    out: list[Timetable] = []
    for reading in readings:
        timetable = reading.timetable.model_copy(deep=True)
        for entry in timetable.entries:
            if entry.confidence is None:
                entry.confidence = 1.0
        first = StageResult(
            timetable=timetable, backend=layout_stage.backend, seconds=0.0, layout=reading.part.layout,
            pages=layout_stage.pages,
        )  # fmt: skip
        second = _second_reading(reading, interpreter_stage) if interpreter_stage is not None else None
        try:
            result = reconcile(
                first, second, mode=mode, filename=filename, media_type=media_type, sha256=sha256
            )
        except NoTimetableFound:
            continue
        result.owner = reading.owner
        out.append(result)
    return out if len(out) >= 2 else None


def combined(timetables: list[Timetable], whole: Timetable) -> Timetable:
    """Every part's entries in one timetable (the upload's entry rows and its one-file exports), each
    entry naming its owner in the field the owner fills: a class page's lessons get the class as group."""
    entries = []
    for timetable in timetables:
        owner = timetable.owner
        for entry in timetable.entries:
            update: dict[str, str] = {}
            if owner is not None:
                field = {"class": "group", "teacher": "teacher", "room": "room"}.get(owner.kind)
                if field and not getattr(entry, field) and entry.kind == "lesson":
                    update[field] = owner.name
            entries.append(entry.model_copy(update=update))
    warnings = list(dict.fromkeys(w for t in timetables for w in t.warnings))
    # No title: the document's first heading names one owner, not the whole school.
    return Timetable(title=None, owner=None, source=whole.source, entries=entries, warnings=warnings)
