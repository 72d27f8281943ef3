"""The whole document through the word-stream readers: each page read as a grid, as records and
as a list, the reading that finds more kept; A/B weeks settled; cell text split into entries.
"""

from __future__ import annotations

from collections.abc import Sequence

from timetable_platform.domain.days import detect_language
from timetable_platform.domain.layout import Layout
from timetable_platform.domain.model import Entry, Owner, Timetable
from timetable_platform.reading.cells import CellSplitter, classify_kind
from timetable_platform.reading.plausibility import too_few_letters
from timetable_platform.reading.textstream.grid import read_page
from timetable_platform.reading.textstream.listing import _list_blocks, list_lines
from timetable_platform.reading.textstream.phrases import (
    _BLANK,
    WEEK_MARK,
    StreamBlock,
)
from timetable_platform.reading.textstream.records import read_records_page


def read_text_stream(layout: Layout, *, language: str | None = None) -> Timetable:
    """The timetable this reader sees in ``layout``'s words; empty (with a warning) when it sees none."""
    texts = [*layout.paragraphs, *(w.text for p in layout.pages for w in p.words)]
    language = language or (layout.languages[0] if layout.languages else detect_language(texts))
    blocks: list[StreamBlock] = []
    warnings: list[str] = []
    nominal = not (layout.media_type == "application/pdf" or layout.media_type.startswith("image/"))
    list_text: list[tuple[str, int]] = []
    for page in layout.pages:
        found, page_warnings = read_page(page, language=language, nominal=nominal)
        records, surely = read_records_page(page, language=language)
        # A records page read as a grid gives a scatter of blocks; a grid read as records gives one
        # block per printed line, far fewer than its cells.
        if records and (surely or len(records) >= 0.8 * len(found)):
            found, page_warnings = records, []
        list_text.extend(list_lines(page))
        blocks.extend(found)
        warnings.extend(page_warnings)
    # A list (day headings, one timed line per block) may run over pages; it wins where it reads more.
    listed = _list_blocks(list_text, language) if list_text else []
    if len(listed) > len(blocks):
        blocks, warnings = listed, []
    _settle_weeks(blocks, layout.paragraphs)
    title, owner = _title_owner(layout)
    entries = _entries(blocks, owner, language)
    if not entries:
        warnings.append("text stream: no day names lined up with times or periods")
    return Timetable(title=title, owner=owner, entries=entries, warnings=warnings)


def _settle_weeks(blocks: list[StreamBlock], paragraphs: Sequence[str]) -> None:
    """Blocks of an A/B timetable whose week marker was not among the words (a heading kept only as a
    paragraph, say) take the other week of the pair, or the one marker the paragraphs print."""
    weeks = {b.week for b in blocks}
    if weeks == {None, "A"} or weeks == {None, "B"}:
        other = "B" if "A" in weeks else "A"
        for b in blocks:
            if b.week is None:
                b.week = other
    elif weeks == {None}:
        marks = {m.group("label").upper() for text in paragraphs for m in WEEK_MARK.finditer(text)}
        if len(marks) == 1:
            week = marks.pop()
            for b in blocks:
                b.week = week


def _title_owner(layout: Layout) -> tuple[str | None, Owner | None]:
    from timetable_platform.reading.interpret import find_owner, find_title, heading_lines

    lines = heading_lines(layout)
    title = find_title(lines) if lines else None
    return title, find_owner(title, lines)


def _entries(blocks: list[StreamBlock], owner: Owner | None, language: str | None) -> list[Entry]:
    if not blocks:
        return []
    splitter = CellSplitter.fit(
        [b.lines for b in blocks if b.subject is None], owner_kind=owner.kind if owner else None, language=language
    )
    out: list[Entry] = []
    seen: set[tuple[object, ...]] = set()
    for b in blocks:
        if b.subject is not None:
            subject, teacher, room, group, notes, kind = b.subject, None, None, None, None, classify_kind(b.subject)
        else:
            f = splitter.split(b.lines, styles=b.styles)
            subject, teacher, room, group, notes, kind = f.subject, f.teacher, f.room, f.group, f.notes, f.kind
        if not subject or subject.strip().casefold() in _BLANK:
            continue
        if too_few_letters(subject):
            continue
        key = (b.week, b.day, b.start, b.end, b.period, subject)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            Entry(
                day=b.day,
                start=b.start.hhmm() if b.start else None,
                end=b.end.hhmm() if b.end else None,
                period=b.period,
                kind=kind,
                subject=subject,
                teacher=teacher,
                room=room,
                group=group,
                week=b.week,
                notes=notes,
                confidence=round(max(0.0, min(1.0, b.confidence)), 3),
                page=b.page,
            )
        )
    return out
