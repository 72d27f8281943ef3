"""Layout in, timetable out: title, owner, then per table the reader that fits (records, grid, listing).

Pure: reads only the layout model. Every reader yields ``Block`` objects (day, times, period, text
lines); the document's cells are then split into subject/teacher/room/group/notes by one
``CellSplitter`` fitted on ALL blocks, so the split follows what this document shows.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from timetable_platform.domain.days import detect_language, is_full_day_name, parse_day
from timetable_platform.domain.layout import Layout, Line, Page, Table
from timetable_platform.domain.model import Entry, Kind, Owner, OwnerKind, Timetable
from timetable_platform.domain.times import find_times, school_day_range
from timetable_platform.reading import daycolumns, grid, listing, records, tablefind
from timetable_platform.reading.cells import ABBREVIATION
from timetable_platform.reading.geometry import split_at_gaps, y_overlap
from timetable_platform.reading.grid import Block
from timetable_platform.reading.plausibility import looks_like_debris

# Title words in the six languages; a heading line holding one is the timetable's title.
_TITLE_WORDS = re.compile(
    r"\b(time\s*table|schedule|stundenplan|unterrichtsplan|emploi du temps|horaire|horario|orario|rooster|lesrooster)\b",
    re.IGNORECASE,
)
_PERSON_TITLE = (
    r"(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Herr|Frau|Mme|Mlle)\.?|Prof\.ssa|Dott\.ssa|Sig\.ra|Prof\.?"
    r"|(?:Hr|Fr|Sr|Sra|Srta|Sig|Dhr|Mevr|Mw|M)\.)"
)
# A surname, possibly with a particle ('de Vries', 'van der Berg', 'di Marco') and a second name.
_NAME = (
    r"(?:(?:de|van|von|der|den|di|da|del|la|le|du|ten|ter)\s+){0,2}"
    r"[A-ZÀ-Þ][\w'’\-]+(?:\s+[A-ZÀ-Þ][\w'’\-]+)?"
)
_TEACHER_LABEL = re.compile(
    r"\b(?:teacher|staff|lehrer(?:in)?|lehrkraft|enseignant(?:e)?|professeur|profesor(?:a)?|docente|insegnante|docent|leraar)\s*[:\-–]\s*"
    r"(?P<name>(?:" + _PERSON_TITLE + r"\s+)?" + _NAME + r")",
    re.IGNORECASE,
)
_TEACHER_NAME = re.compile(r"\b(?P<name>" + _PERSON_TITLE + r"\s+" + _NAME + r")")
_CLASS_LABEL = re.compile(
    r"\b(?:class|form|klasse|classe|clase|curso|classe|klas|groep|grupo|gruppo|tutor group)\s*[:\-–]?\s*(?P<name>[\w\-/]{1,12})",
    re.IGNORECASE,
)
_CLASS_CODE = re.compile(r"(?<![\w./])(?P<name>\d{1,2}\s?[A-Za-z]{1,3}\d?)(?![\w./])")
_YEAR_GROUP = re.compile(
    r"\b(?P<name>Reception|Nursery|Kindergarten|Year\s+\d{1,2}|Grade\s+\d{1,2}|Jahrgang\s+\d{1,2})\b",
    re.IGNORECASE,
)
_ROOM_LABEL = re.compile(
    r"\b(?:room|raum|salle|aula|sala|lokaal)\s*[:\-–]?\s*(?P<name>[\w\-]{1,12})", re.IGNORECASE
)
_STUDENT_LABEL = re.compile(
    r"\b(?:student|pupil|sch[üu]ler(?:in)?|[ée]l[èe]ve|alumno|alunno|leerling|timetable for)\s*[:\-–]?\s*(?P<name>"
    + _NAME
    + r")",
    re.IGNORECASE,
)
_NOT_CLASS_WORDS = {"st", "nd", "rd", "th", "pm", "am", "h", "min"}


def _looks_like_heading(text: str) -> bool:
    """Lines above the grid: no day names, no times."""
    if find_times(text):
        return False
    return not any(parse_day(w) for w in text.split() if len(w) > 2)


def heading_lines(layout: Layout) -> list[str]:
    """Text printed before the timetable starts (title, owner, school), in reading order."""
    page = layout.pages[0] if layout.pages else None
    boxes = [t.bbox for t in page.tables if t.bbox is not None] if page else []
    if page is not None and page.lines and boxes:
        # Paged readers know where the table is: what is printed above it, never a footnote below it.
        top = min(b.top for b in boxes)
        above = [ln.text.strip() for ln in page.lines if ln.bbox.bottom <= top + 2 and ln.text.strip()]
        if above:
            return above[:8]
        paragraphs = [p.strip() for p in layout.paragraphs[:8] if p.strip()]
        if paragraphs:
            return paragraphs
        bottom = max(b.bottom for b in boxes)
        candidates = [ln.text.strip() for ln in page.lines if ln.bbox.bottom <= bottom and ln.text.strip()]
    else:
        candidates = [p.strip() for p in layout.paragraphs[:8] if p.strip()]
        if candidates:
            return candidates
        candidates = [ln.text.strip() for ln in page.lines if ln.text.strip()] if page else []
    # A heading printed as the table's first rows: the lines before the grid starts.
    lines: list[str] = []
    for text in candidates[:10]:
        if not _looks_like_heading(text):
            break
        lines.append(text)
    return lines


def find_title(lines: Sequence[str]) -> str | None:
    for index, line in enumerate(lines):
        if _TITLE_WORDS.search(line) and len(line) <= 160:
            title = line.strip()
            if title.endswith(("-", "–", "—", ":")) and index + 1 < len(lines):
                title = f"{title} {lines[index + 1].strip()}"  # a heading wrapped onto the next line
            return title
    for line in lines:
        if _TEACHER_LABEL.search(line) or _CLASS_LABEL.search(line) or _TEACHER_NAME.search(line):
            return line.strip()
    # Otherwise the first line that reads as words (OCR leaves specks like 'J').
    return next(
        (line.strip() for line in lines if len(line.strip()) >= 2 and any(c.isalpha() for c in line)), None
    )


def find_owner(title: str | None, lines: Iterable[str] = ()) -> Owner | None:
    """Whose timetable: from the title first, then the other heading lines."""
    candidates = [title] if title else []
    candidates.extend(line for line in lines if line != title)
    for text in candidates:
        owner = _owner_in(text)
        if owner is not None:
            return owner
    return None


def _owner_in(text: str) -> Owner | None:
    m = _TEACHER_LABEL.search(text)
    if m:
        return _owner("teacher", m.group("name"))
    m = _STUDENT_LABEL.search(text)
    if m and not _TITLE_WORDS.search(m.group("name")):
        return _owner("student", m.group("name"))
    m = _CLASS_LABEL.search(text)
    if m and re.search(r"\d", m.group("name")):
        return _owner("class", m.group("name"))
    if re.search(r"\b(tutor|form tutor|klassenlehrer(in)?)\s*:", text, re.IGNORECASE):
        return None  # 'Tutor: Mr X' names the tutor of a class timetable, not the owner
    m = _TEACHER_NAME.search(text)
    if m:
        return _owner("teacher", m.group("name"))
    m = _ROOM_LABEL.search(text)
    if m and re.search(r"\d", m.group("name")):
        return _owner("room", m.group("name"))
    for m in _CLASS_CODE.finditer(text):
        name = m.group("name").replace(" ", "")
        letters = re.sub(r"\d", "", name).casefold()
        if letters not in _NOT_CLASS_WORDS:
            return _owner("class", name)
    m = _YEAR_GROUP.search(text)
    if m:
        return _owner("class", m.group("name"))
    return None


def _owner(kind: OwnerKind, name: str) -> Owner:
    return Owner(kind=kind, name=name.strip(" -–:,"))


def _texts(layout: Layout) -> list[str]:
    out = list(layout.paragraphs)
    for page in layout.pages:
        for table in page.tables:
            out.extend(c.text for c in table.cells)
        if not page.tables:
            out.extend(line.text for line in page.lines)
    return out


def _with_text(page: Page) -> list[Table]:
    """The page's tables with text in two or more cells: a frame around all the text (the edge of a
    photographed sheet, a page border) is no table, and the words inside it are read as unruled."""
    return [t for t in page.tables if sum(1 for c in t.cells if c.text.strip()) >= 2]


def _tables(page: Page, language: str | None = None) -> list[Table]:
    """The page's ruled tables, or the table its word positions make when that reads more blocks: rules
    may frame only the lessons, leaving the day header and the time column outside (design tools)."""
    tables = _with_text(page)
    table = _best_found_table(page, language)
    if table is None:
        return tables
    if not tables or not any(_blocks_read(t, language, page.number) for t in tables):
        return [table] if not tables or _blocks_read(table, language, page.number) > 0 else tables
    # Rules drawn around parts of the timetable only (fills of striped rows, boxes of some lessons)
    # cut it into pieces that each read less: the one table the word positions make wins when its
    # reading makes clearly more of the page than all the pieces together.
    ruled = sum(_blocks_read(t, language, page.number, scored=True) for t in tables)
    # (Pieces whose blocks print no times score nothing here: a reading by periods is kept.)
    found = _blocks_read(table, language, page.number, scored=True)
    if ruled > 0 and found > RULED_MARGIN * ruled:
        return [table]
    # Pieces that stop part-way down (rows below drawn without edges) lose the rest: the whole table
    # wins as soon as it reads more, every day and time the pieces read and others besides.
    if ruled > 0 and found > ruled and _timed_slots([table], language, page.number) > _timed_slots(
        tables, language, page.number
    ):
        return [table]
    return tables


def _timed_slots(tables: list[Table], language: str | None, page: int) -> set[tuple[object, ...]]:
    """The (day, week, start, end) slots the grid reading of the tables fills."""
    slots: set[tuple[object, ...]] = set()
    for table in tables:
        reading = grid.read_grid(table, language=language, page=page)
        for block in reading.blocks if reading is not None else []:
            if block.start is not None and block.end is not None:
                slots.add((block.day, block.week, block.start, block.end))
    return slots


# How many column edges rulings drawn from boxes may miss (see _best_found_table).
MISSED_COLUMNS = 2


def _best_found_table(page: Page, language: str | None) -> Table | None:
    """The table the page's rulings make, or the one its word positions make when that finds the
    column or two the rulings missed and reads more: the edges of coloured boxes (a portal's lesson
    tiles, a menu panel beside them) pass for rulings, and where one edge is missed two columns (the
    time labels and the first day) become one, which the gap between their words keeps apart. Many
    more columns from words are the scattered boxes of a calendar view, which its hour lines rule
    better and which are read by day columns later."""
    ruled = tablefind.table_from_rulings(page)
    worded = tablefind.table_from_words(page.words, page.fills)
    if ruled is None or worded is None:
        return ruled or worded
    if not ruled.n_cols < worded.n_cols <= ruled.n_cols + MISSED_COLUMNS:
        return ruled
    read = {id(t): _blocks_read(t, language, page.number, scored=True) for t in (ruled, worded)}
    return worded if read[id(worded)] > read[id(ruled)] else ruled


# How much more the table found from word positions must read than the ruled tables to replace them.
RULED_MARGIN = 2.0


def _blocks_read(table: Table, language: str | None, page: int, *, scored: bool = False) -> float:
    """How many blocks the table reads (``scored``: weighed by ``_reading_score``, records count one each)."""
    found = records.read_records(table, language=language, page=page)
    if found is not None:
        return len(found)
    reading = grid.read_grid(table, language=language, page=page)
    blocks = reading.blocks if reading is not None and reading.blocks else None
    if blocks is None:
        blocks = listing.read_table_listing(table, language=language, page=page)
    return _reading_score(blocks) if scored else len(blocks)


def interpret(layout: Layout) -> Timetable:
    """The timetable a layout shows; an empty one (with warnings saying why) when none is found."""
    # Distinct texts only: a timetable repeats its subjects many times.
    language = layout.languages[0] if layout.languages else detect_language(dict.fromkeys(_texts(layout)))
    warnings: list[str] = []
    blocks: list[Block] = []
    record_entries: list[Entry] = []
    grid_titles: list[str] = []
    has_times = False
    previous_week: str | None = None
    has_tables = any(_with_text(page) for page in layout.pages)
    listed = [] if has_tables else listing.read_listing(_listing_lines(layout, language), language=language)
    if listed and _found_tables_read_more(layout, language, len(listed)):
        # OCR splits an unruled table's header at its column gaps, so a lone day name can pass for a
        # list heading: the table found from word positions wins when it reads more blocks.
        listed = []
    last_records: Table | None = None  # the record table of the page before, which this page may continue
    for page in layout.pages:
        if listed:
            break  # a list-style document: no table to find
        record_table, last_records = last_records, None
        for index, table in enumerate(_tables(page, language)):
            found = records.read_records(
                table, language=language, page=page.number,
                continues=record_table if index == 0 else None,
                last_day=record_entries[-1].day if record_entries else None,
            )  # fmt: skip
            if found is not None:
                record_entries.extend(found)
                last_records = table if records.read_records(table, language=language) else record_table
                continue
            week = _week_above(layout, page, table)
            if week is None and index == 0 and previous_week and not table.caption:
                week = previous_week  # a table continued from the previous page keeps its week
            reading = grid.read_grid(table, language=language, page=page.number, default_week=week)
            if reading is None or not reading.blocks:
                blocks.extend(listing.read_table_listing(table, language=language, page=page.number))
                continue
            previous_week = reading.blocks[-1].week
            blocks.extend(reading.blocks)
            grid_titles.extend(reading.title_lines)
            has_times = has_times or reading.has_times
            warnings.extend(reading.warnings)
    if not blocks and not record_entries and not listed and has_tables:
        listed = listing.read_listing(_listing_lines(layout, language), language=language)
    in_page_order = not blocks and not record_entries and bool(listed)
    if not blocks and not record_entries:
        blocks.extend(listed)
    if not record_entries:
        # Day columns whose blocks print their own times (calendar views, app lists, lists in columns)
        # replace a reading that makes less of the page, and, as much, a list read in page order, which
        # mixes the days of columns side by side.
        wide = layout.reader == "pdfplumber"  # a text layer's lines run across the page's columns
        by_columns = [b for page in layout.pages for b in daycolumns.read_day_columns(page, language, wide_lines=wide)]
        columns_score, current_score = _reading_score(by_columns), _reading_score(blocks)
        if columns_score >= COLUMN_MIN_BLOCKS and (
            columns_score > 1.1 * current_score or (in_page_order and columns_score >= current_score)
        ):
            blocks = by_columns
            warnings = []

    # Headings above the table, then title rows printed inside it.
    lines = [*heading_lines(layout), *grid_titles]
    title = find_title(lines)
    owner = find_owner(title, lines)

    entries = [*record_entries, *_entries(blocks, owner, language)]
    if not entries:
        warnings.append("no day names with times or periods were found in any table or list")
    return Timetable(title=title, owner=owner, entries=entries, warnings=warnings)


# The fewest timed blocks that make a day-column reading worth taking over another.
COLUMN_MIN_BLOCKS = 3


def _reading_score(blocks: list[Block]) -> float:
    """How much of a timetable a reading makes: blocks with a start and an end whose text reads like a
    lesson (a name, not OCR debris, not a dozen words glued from several cells). A block repeated on
    other days counts once: a heading that names several days repeats its list for each. A block that
    is a day's name (a day heading read as a lesson) counts against: the reading misplaced the page's
    days."""
    score = 0.0
    seen: set[tuple[object, ...]] = set()
    taken: dict[tuple[object, ...], list[tuple[int, int]]] = {}
    for block in blocks:
        if len(block.lines) == 1 and not block.subject and is_full_day_name(block.lines[0]):
            score -= 1.0
            continue
        if block.start is None or block.end is None or _contradicted(block):
            continue
        key = (block.week, block.start, block.end, block.subject, tuple(block.lines))
        if key in seen:
            continue
        seen.add(key)
        text = " ".join(block.lines) if not block.subject else block.subject
        words = len(text.split())
        weight = 1.0 if 1 <= words <= 10 and not looks_like_debris(text) else 0.25 if words else 0.0
        # A block at the same time as another of its day counts half: parallel lessons are rare, while
        # a reading that mixes two days' columns into one puts two lessons in every slot.
        span = (block.start.minutes, block.end.minutes)
        day = taken.setdefault((block.day, block.week), [])
        if any(a < span[1] and span[0] < b for a, b in day):
            weight /= 2
        day.append(span)
        score += weight
    return score


def _contradicted(block: Block) -> bool:
    """Whether the block prints a time range of its own that is not the time it was given (a grid
    laid over boxes that each say when they are)."""
    assert block.start is not None and block.end is not None
    for line in block.lines:
        for found in find_times(line):
            if found.end is None:
                continue
            match = school_day_range(found, reference=block.start)
            if match.end is None:
                continue
            if abs(match.start.minutes - block.start.minutes) > 10 or abs(match.end.minutes - block.end.minutes) > 10:
                return True
    return False


def _found_tables_read_more(layout: Layout, language: str | None, listed: int) -> bool:
    found = 0
    for page in layout.pages:
        for table in _tables(page, language):
            records_read = records.read_records(table, language=language, page=page.number)
            if records_read is not None:
                found += len(records_read)
                continue
            reading = grid.read_grid(table, language=language, page=page.number)
            found += len(reading.blocks) if reading is not None else 0
    return found > listed


def _week_above(layout: Layout, page: Page, table: Table) -> str | None:
    """An A/B week marker printed as its own line above the table (or, for office formats, in the paragraphs)."""
    week: str | None = None
    if table.bbox is not None and page.lines:
        for line in page.lines:
            if line.bbox.bottom <= table.bbox.top + 1:
                marker = grid.WEEK_RE.match(line.text)
                if marker and marker.group("label").upper() in "AB":
                    week = marker.group("label").upper()
        return week
    for paragraph in layout.paragraphs:
        marker = grid.WEEK_RE.match(paragraph)
        if marker and marker.group("label").upper() in "AB":
            return marker.group("label").upper()
    return None


def _listing_lines(layout: Layout, language: str | None = None) -> list[str]:
    # Readers of paged formats repeat the page lines as paragraphs: take one or the other.
    placed = layout.media_type == "application/pdf" or layout.media_type.startswith("image/")
    if placed and not any(page.tables for page in layout.pages):
        columns = [_column_order(page, language) for page in layout.pages]
        if any(order is not None for order in columns):
            return [
                text
                for page, order in zip(layout.pages, columns, strict=True)
                for text in (order if order is not None else listing.lines_beside_times(page.lines, language))
            ]
        beside = [listing.lines_beside_times(page.lines, language) for page in layout.pages]
        if any(texts != [line.text for line in page.lines] for texts, page in zip(beside, layout.pages, strict=True)):
            return [text for texts in beside for text in texts]
    if layout.paragraphs:
        return list(layout.paragraphs)
    return [line.text for page in layout.pages for line in page.lines]


def _column_order(page: Page, language: str | None) -> list[str] | None:
    """The page's left column's lines then its right column's when a list runs in two columns side by
    side (None when the page reads best as printed): a text layer (or OCR) puts the lines of both
    columns at one height into one line, which mixes their days. Every gap between line pieces that no
    piece crosses, with a list on each side, is tried; the order whose list reading fills the most
    distinct day and time slots wins (mixed columns put two lessons in one slot of a day, and lose the
    days of one column)."""
    as_printed = [line.text for line in page.lines]
    pieces = [piece for line in page.lines for piece in split_at_gaps(line)]
    best: list[str] | None = None
    best_score = _filled_slots(listing.read_listing(as_printed, language=language))
    for x in sorted({piece.bbox.x0 for piece in pieces}):
        if any(p.bbox.x0 < x < p.bbox.x1 for p in pieces):
            continue
        left = [p for p in pieces if p.bbox.x1 <= x]
        right = [p for p in pieces if p.bbox.x0 >= x]
        if len(left) < _LIST_MIN_LINES or len(right) < _LIST_MIN_LINES:
            continue
        left_rows, right_rows = _rows(left), _rows(right)
        # Each column is a list of its own: day headings with timed lines under them.
        if not all(listing.read_listing(rows, language=language) for rows in (left_rows, right_rows)):
            continue
        order = left_rows + right_rows
        score = _filled_slots(listing.read_listing(order, language=language))
        if score > best_score:
            best, best_score = order, score
    return best


def _filled_slots(blocks: list[Block]) -> int:
    return len({(b.day, b.week, b.start, b.end) for b in blocks if b.start is not None and b.end is not None})


# The fewest line pieces a column of a list holds.
_LIST_MIN_LINES = 3


def _rows(pieces: list[Line]) -> list[str]:
    """Line pieces joined into text lines, top to bottom: pieces at one height make one line."""
    rows: list[list[Line]] = []
    for piece in sorted(pieces, key=lambda p: (p.bbox.top, p.bbox.x0)):
        if rows and y_overlap(rows[-1][0].bbox, piece.bbox) > 0.5 * min(rows[-1][0].bbox.height, piece.bbox.height):
            rows[-1].append(piece)
        else:
            rows.append([piece])
    return [" ".join(p.text for p in sorted(row, key=lambda p: p.bbox.x0)) for row in rows]


def _entries(blocks: list[Block], owner: Owner | None, language: str | None) -> list[Entry]:
    if not blocks:
        return []
    splitter = _fit_splitter([b.lines for b in blocks if not b.subject], owner, language)
    blocks = _parallel_blocks(blocks, splitter)
    out: list[Entry] = []
    split_blocks: list[tuple[Block, tuple[str, str | None, str | None, str | None, str | None, Kind]]] = []
    # Timetables repeat the same cell text many times: split each distinct text once.
    split_cache: dict[tuple[object, ...], tuple[object, float]] = {}
    for block in blocks:
        key = (block.subject, tuple(block.lines), tuple(block.styles))
        if key in split_cache:
            cached, penalty = split_cache[key]
            fields = cached  # type: ignore[assignment]
            block.confidence -= penalty
        else:
            before = block.confidence
            fields = _split(splitter, block, language)
            split_cache[key] = (fields, before - block.confidence)
        if fields is None:
            continue
        split_blocks.append((block, fields))  # type: ignore[arg-type]
    _penalise_odd_splits(split_blocks)
    for block, fields in split_blocks:
        subject, teacher, room, group, notes, kind = fields
        # Fields printed in lines of their own (a room column) are taken as printed.
        teacher = block.fields.get("teacher", teacher)
        room = block.fields.get("room", room)
        group = block.fields.get("group", group)
        notes_all = "; ".join(n for n in [*block.notes, notes] if n) or None
        out.append(
            Entry(
                day=block.day,
                start=block.start.hhmm() if block.start else None,
                end=block.end.hhmm() if block.end else None,
                period=block.period,
                kind=kind,
                subject=subject,
                teacher=teacher,
                room=room,
                group=group,
                week=block.week,
                notes=notes_all,
                confidence=max(0.0, min(1.0, round(block.confidence, 3))),
                page=block.page,
            )
        )
    _names_before_descriptions(out)
    return out


# Separators between a lesson's name and what the lesson is about ('Maths - fractions', 'Art: clay').
_TOPIC_SEPARATOR = re.compile(r"^\s*[-–—:;,/]\s*")


def _names_before_descriptions(entries: list[Entry]) -> None:
    """Lesson-plan timetables print the subject, then the day's topic ('History The Romans at home',
    'Maths - time'). Where several entries start with the same words and go on with different text
    that the document prints only once, those words are the subject and the rest is a note. A second
    word that recurs ('English Literature' all week) is part of the name, so it is kept."""
    subjects = Counter(e.subject for e in entries)
    prefixes: Counter[str] = Counter()
    for subject in subjects:
        words = subject.split()
        for k in range(1, min(4, len(words))):
            prefixes[" ".join(words[:k])] += 1
    for entry in entries:
        words = entry.subject.split()
        if len(words) < 2 or subjects[entry.subject] > 1 or entry.kind != "lesson":
            continue
        for k in range(min(3, len(words) - 1), 0, -1):
            name, tail = " ".join(words[:k]), _TOPIC_SEPARATOR.sub("", " ".join(words[k:]))
            # The name heads three distinct subjects, or stands alone elsewhere and heads another.
            standing = subjects.get(name, 0)
            if ABBREVIATION.fullmatch(name):
                continue  # 'Lab.' heads 'Lab. Chimica' and 'Lab. Fisica': an abbreviation is no whole name
            if not tail or (prefixes[name] < 3 and not (standing and prefixes[name] >= 2)):
                continue
            tails = [s.split(maxsplit=k)[k] for s in subjects if s.startswith(name + " ") and len(s.split()) > k]
            if len(tail.split()) < 2 and not tail[:1].islower():
                break  # one capitalised word after a name ('Design Technology'): part of the name
            if any(subjects[f"{name} {t}"] > 1 for t in tails if f"{name} {t}" in subjects):
                break  # the document prints this name with the same continuation again: a longer name
            entry.notes = "; ".join(x for x in (tail, entry.notes) if x)
            entry.subject = name
            entry.confidence = max(0.0, round((entry.confidence or 1.0) - 0.05, 3))
            break


def _parallel_blocks(blocks: list[Block], splitter: object | None) -> list[Block]:
    """A cell listing several lessons side by side (one line each, lab batches) is one block per lesson."""
    parallel = getattr(splitter, "parallel", None)
    if parallel is None:
        return blocks
    out: list[Block] = []
    for block in blocks:
        groups = None if block.subject else parallel(block.lines)
        if not groups:
            out.append(block)
            continue
        for group in groups:
            out.append(dataclasses.replace(block, lines=list(group), styles=[None] * len(group), notes=list(block.notes), fields=dict(block.fields)))
    return out


# Confidence lost by a cell split unlike most of the document's (its subject swallowed a field line).
PENALTY_ODD_SPLIT = 0.2


def _penalise_odd_splits(
    split_blocks: list[tuple[Block, tuple[str, str | None, str | None, str | None, str | None, Kind]]],
) -> None:
    """Where most multi-line cells keep the subject to one line and fill a field from the next, a cell
    whose subject also took a later line while no field was found is probably mis-split."""
    multi = [(b, f) for b, f in split_blocks if len(b.lines) >= 2 and not b.subject]
    if len(multi) < 4:
        return

    def swallowed(
        block: Block, fields: tuple[str, str | None, str | None, str | None, str | None, Kind]
    ) -> bool:
        subject = fields[0].casefold()
        later = [ln.casefold() for ln in block.lines[1:] if ln.strip()]
        return any(ln in subject for ln in later) and not (fields[1] or fields[3])

    odd = [b for b, f in multi if swallowed(b, f)]
    if len(odd) * 3 < len(multi):
        for block in odd:
            block.confidence -= PENALTY_ODD_SPLIT


def _fit_splitter(cells: list[list[str]], owner: Owner | None, language: str | None) -> object | None:
    try:
        from timetable_platform.reading.cells import CellSplitter
    except ImportError:  # PARSE's splitter not installed yet: first line is the subject
        return None
    return CellSplitter.fit(cells, owner_kind=owner.kind if owner else None, language=language)


def _split(
    splitter: object | None, block: Block, language: str | None
) -> tuple[str, str | None, str | None, str | None, str | None, Kind] | None:
    if block.subject:
        return block.subject, None, None, None, None, _kind(block.subject, language)
    if not block.lines:
        return None
    labelled = _labelled_fields(block.lines)
    if labelled is not None:
        return labelled
    if splitter is None:
        subject = block.lines[0]
        notes = " ".join(block.lines[1:]) or None
        return subject, None, None, None, notes, _kind(subject, language)
    fields = splitter.split(block.lines, styles=block.styles)  # type: ignore[attr-defined]
    subject, teacher, room, group = fields.subject, fields.teacher, fields.room, fields.group
    if not subject:
        # Every line was read as a field ('9M / SVT / A-12'): a short upper-case name is a subject too.
        if teacher:
            subject, teacher = teacher, None
        elif room or group:
            subject = room or group or ""
            room, group = (None, group) if subject == room else (room, None)
        else:
            return None
        block.confidence -= 0.2
        return subject, teacher, room, group, fields.notes, _kind(subject, language)
    return subject, teacher, room, group, fields.notes, fields.kind


_LABELLED = re.compile(r"^\s*(?P<label>[^\W\d][^:]{0,24}?)\s*:\s*(?P<value>.*\S)?\s*$")


def _labelled_fields(
    lines: list[str],
) -> tuple[str, str | None, str | None, str | None, str | None, Kind] | None:
    """A block whose lines name their fields ('Activity: Yoga', 'People: Sam', 'Room: Hall', 'Time: 9-10'),
    as forms and programme sheets print them: each value goes to the field its label names. None unless
    a label names the subject."""
    values: dict[str, list[str]] = {}
    for line in lines:
        if records.column_role(line) in ("day", "start", "end", "time", "period"):
            continue  # a label whose value (a time) the reader has taken already
        m = _LABELLED.match(line)
        role = records.column_role(m.group("label")) if m else None
        if m is None or role is None:
            values.setdefault("notes", []).append(line.strip())
            continue
        if m.group("value") and role not in ("day", "start", "end", "time", "period", "week"):
            values.setdefault(role, []).append(m.group("value"))
    if not values.get("subject"):
        return None
    subject = " ".join(values["subject"])

    def joined(role: str) -> str | None:
        return " / ".join(values[role]) if values.get(role) else None

    notes = "; ".join(v for v in (joined("notes"),) if v) or None
    return subject, joined("teacher"), joined("room"), joined("group"), notes, _kind(subject, None)


def _kind(text: str, language: str | None) -> Kind:
    try:
        from timetable_platform.reading.cells import classify_kind
    except ImportError:
        return "break" if re.search(r"break|lunch|pause|recess", text, re.IGNORECASE) else "lesson"
    return classify_kind(text, language)
