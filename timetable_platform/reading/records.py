"""Record tables exported from school systems: one row per block, headed day / start / end / subject / ...

Headers are recognised in English, German, French, Spanish, Italian and Dutch. Fields come from their own
columns, so no cell splitting is needed; names are kept as printed.
"""

from __future__ import annotations

import re

from timetable_platform.domain.days import parse_day
from timetable_platform.domain.layout import Cell, Table
from timetable_platform.domain.model import Day, Entry, Kind
from timetable_platform.domain.text import fold, one_edit_apart
from timetable_platform.domain.times import Clock, find_times, school_day, school_day_range
from timetable_platform.reading.vocabulary import ROLE_WORDS as _ROLE_WORDS

# Cells that hold nothing.
_BLANK = {"", "-", "–", "—", "n/a", "na", "none", "nil", "/"}
# Note columns whose value stands alone; other columns that go to notes keep their header as a label.
_PLAIN_NOTES = {"notes", "note", "comment", "comments", "remarks", "bemerkung", "hinweis", "remarque", "nota", "notas", "opmerking", "keterangan"}


_EDGE_STROKE = re.compile(r"^[Il|!]\s+(?=\w{2})|(?<=\w{2})\s+[Il|!]$")


def _key(text: str) -> str:
    return re.sub(r"[\s_./:()]+", " ", fold(text)).strip()


def _role(text: str) -> str | None:
    key = _key(text)
    if not key:
        return None
    for role, words in _ROLE_WORDS.items():
        if key in words:
            return role
    return _misread_role(key)


def _misread_role(key: str) -> str | None:
    """The role of a one-word header that OCR read one letter off ('Finsh' for 'Finish', 'Sublect'
    for 'Subject'): only words of five letters or more, and only when one role's word is that close."""
    if len(key) < 5 or " " in key:
        return None
    close = {
        role
        for role, words in _ROLE_WORDS.items()
        for word in words
        if " " not in word and len(word) >= 5 and one_edit_apart(key, word)
    }
    return close.pop() if len(close) == 1 else None


def column_role(text: str) -> str | None:
    """The field a column header or a line's label names ('Lecturer' -> teacher, 'Venue' -> room)."""
    roles = _roles(text)
    return roles[0] if len(roles) == 1 else None


def _roles(text: str) -> list[str]:
    """Roles a header cell names: the whole label ('Start time'), else each part of a joined label
    ('Date + Time', 'Day / Time'), else its first word ('Equipment required', 'Subject code').
    A lone stroke beside the label is the edge of a header band OCR read as a letter ('I Day')."""
    text = _EDGE_STROKE.sub("", text)
    whole = _role(text)
    if whole:
        return [whole]
    parts = [p for p in re.split(r"\s*(?:[+/&,|]|\band\b|\bund\b|\bet\b|\by\b)\s*", fold(text)) if p.strip()]
    roles = [r for r in (_role(p) for p in parts) if r]
    if len(parts) > 1 and roles:
        return list(dict.fromkeys(roles))
    words = _key(text).split()
    if len(words) >= 2:
        first = _role(words[0])
        if first:
            return [first]
    return []


def header_roles(
    cells: list[Cell], *, day_rows: bool = False, day_column: int | None = None
) -> dict[str, int] | None:
    """Role -> column when this row is a record header: it needs a subject, a time or period, and a day
    column unless the table names its days in rows of their own (``day_rows``). ``day_column`` is the
    column whose cells name days, for a header that does not say so.

    A cell naming two roles ('Date + Time') gives the column both; the first column of a role wins."""
    roles: dict[str, int] = {}
    for cell in sorted(cells, key=lambda c: c.col):
        for role in _roles(cell.text):
            roles.setdefault(role, cell.col)
    if "day" not in roles and day_column is not None and day_column not in roles.values():
        roles["day"] = day_column
    if "subject" in roles and ({"start", "time", "period"} & roles.keys()) and ("day" in roles or day_rows):
        return roles
    return None


def _day_column(rows: list[list[Cell]], language: str | None) -> int | None:
    """The column that names a day in most rows, whatever its header says: a header OCR could not
    read (white print on a coloured band), or none at all."""
    counts: dict[int, int] = {}
    for row in rows:
        for cell in row:
            text = cell.text.strip()
            if text and len(text) <= 14 and parse_day(text, language) is not None:
                counts[cell.col] = counts.get(cell.col, 0) + 1
    if not counts:
        return None
    col, named = max(counts.items(), key=lambda item: item[1])
    return col if named >= max(3, 0.5 * len(rows)) else None


def _day_row(cells: list[Cell], language: str | None) -> Day | None:
    """The day a section row names ('Tuesday 14th Oct', 'Wed 15th Oct | Day 2'): its first text is a day
    and the row holds no time."""
    texts = [c.text.strip() for c in sorted(cells, key=lambda c: c.col) if c.text.strip()]
    if not texts or len(texts) > 3 or any(find_times(t) for t in texts):
        return None
    return parse_day(texts[0], language)


# Rows searched for the header: three, or more while the rows hold no time yet (a page's title, search
# box and page-size control above an exported table are read into the table found from word positions).
HEADER_ROWS = 3
MAX_HEADER_ROWS = 8


def _header_rows(rows: list[list[Cell]]) -> int:
    timed = next((r for r, row in enumerate(rows) if any(find_times(c.text) for c in row)), len(rows))
    return min(len(rows), max(HEADER_ROWS, min(timed, MAX_HEADER_ROWS)))


def read_records(
    table: Table,
    *,
    language: str | None = None,
    page: int | None = None,
    continues: Table | None = None,
    last_day: Day | None = None,
) -> list[Entry] | None:
    """Entries of a record table, or None when the table is not one.

    One row per block under a header naming the columns. The day is a column of its own, or rows of
    their own ('Tuesday 14th Oct') that head each day's rows, as dated programmes and course weeks print
    them. A header printed again further down is skipped; columns the header names but no field takes
    go to notes as 'Header: value'. A table without a header that ``continues`` a record table of the
    page before (a browser's print flows a long table onto the next sheet without repeating its header)
    is read under that table's header, its columns matched by position, from ``last_day`` on."""
    m = table.grid()
    rows = [[c for c in table.cells if c.row == r] for r in range(table.n_rows)]
    has_day_rows = sum(1 for r in rows if _day_row(r, language)) >= 1
    day_column = _day_column(rows, language)
    for header_row in range(_header_rows(rows)):
        roles = header_roles(rows[header_row], day_rows=has_day_rows, day_column=day_column)
        if roles:
            break
    else:
        carried = _carried_header(table, continues, language) if continues is not None else None
        if carried is None:
            return None
        roles, header_text, header_row = *carried, -1
    if header_row >= 0:
        header_text = {c.col: " ".join(c.text.split()) for c in rows[header_row]}
        last_day = None
        room_column = _unnamed_room_column(rows, header_row, roles, header_text)
        if room_column is not None:
            roles = {**roles, "room": room_column}
    extra_cols = [c for c, t in sorted(header_text.items()) if t and c not in roles.values()]
    entries: list[Entry] = []
    reference: Clock | None = None
    for r in range(header_row + 1, table.n_rows):

        def cell_text(col: int, r: int = r) -> str | None:
            if col >= table.n_cols:
                return None
            cell = m[r][col]
            text = " ".join(cell.text.split()) if cell is not None else ""
            return None if text.casefold() in _BLANK else text or None

        def value(role: str) -> str | None:
            col = roles.get(role)
            return None if col is None else cell_text(col)

        section_day = _day_row(rows[r], language)
        if section_day is not None and not (value("subject") and roles.get("day") is not None):
            if section_day != last_day:
                reference = None
            last_day = section_day
            continue
        if header_roles(rows[r], day_rows=True, day_column=day_column) == roles:
            continue  # the header printed again (a page break inside the table)
        day_text = value("day")
        day = (parse_day(day_text, language) or _day_in(day_text, language)) if day_text else None
        day = day or last_day
        subject = value("subject")
        if day is None or not subject:
            continue
        if day != last_day:  # a new day: times start again from the morning
            reference = None
            last_day = day
        start = end = None
        start_text, end_text, time_text = (_with_separator(value(role)) for role in ("start", "end", "time"))
        if time_text:
            found = find_times(time_text)
            if found:
                match = school_day_range(found[0], reference=reference)
                start, end = match.start, match.end
        if start_text:
            found = find_times(start_text)
            if found:
                start = school_day_range(found[0], reference=reference).start
        if end_text:
            found = find_times(end_text)
            if found:
                end = school_day(found[0].start, reference=start) if not found[0].settled else found[0].start
        if start is not None:
            reference = start
        week = value("week")
        if week:
            wm = re.search(r"\b([AB12])\b\s*$", week)
            week = wm.group(1).upper() if wm else week
        notes: list[str | None] = []
        if "notes" in roles:
            label, text = header_text.get(roles["notes"], ""), value("notes")
            notes.append(text if _key(label) in _PLAIN_NOTES or not text else f"{label}: {text}")
        for col in extra_cols:
            text = cell_text(col)
            if text and header_text[col]:
                notes.append(f"{header_text[col]}: {text}")
        entries.append(
            Entry(
                day=day,
                start=start.hhmm() if start else None,
                end=end.hhmm() if end and (start is None or end >= start) else None,
                period=value("period"),
                kind=_kind(subject, language),
                subject=subject,
                teacher=value("teacher"),
                room=value("room"),
                group=value("group"),
                week=week,
                notes="; ".join(n for n in notes if n) or None,
                confidence=1.0 if start is not None or value("period") else 0.8,
                page=page,
            )
        )
    return entries or None


# A clock time whose separator OCR dropped or read as a space ('920', '1255', '8 30').
_BARE_TIME = re.compile(r"^(\d{1,2})\s?([0-5]\d)$")


def _with_separator(text: str | None) -> str | None:
    """A start, end or time column holds times only: four or three digits there are a time whose
    separator OCR lost ('1255' is 12:55), never a number."""
    if text is None or find_times(text):
        return text
    m = _BARE_TIME.match(text.strip())
    return f"{m.group(1)}:{m.group(2)}" if m and int(m.group(1)) <= 23 else text


def _unnamed_room_column(rows: list[list[Cell]], header_row: int, roles: dict[str, int], header: dict[int, str]) -> int | None:
    """A column with no header OCR could read, whose cells are rooms ('R101', 'Lab 2', 'S12'): the
    room column of a table whose header band lost that word."""
    if "room" in roles:
        return None
    columns = {c.col for row in rows[header_row + 1 :] for c in row} - set(roles.values())
    for col in sorted(columns):
        if header.get(col, "").strip():
            continue
        texts = [c.text.strip() for row in rows[header_row + 1 :] for c in row if c.col == col and c.text.strip()]
        if len(texts) >= 3 and sum(1 for t in texts if _looks_like_room(t)) >= 0.6 * len(texts):
            return col
    return None


def _looks_like_room(text: str) -> bool:
    from timetable_platform.reading.cells import is_room

    return is_room(text) or bool(re.fullmatch(r"[A-Z$]{0,3}-?\d{1,4}[A-Za-z]?", text))


def _carried_header(
    table: Table, previous: Table, language: str | None
) -> tuple[dict[str, int], dict[int, str]] | None:
    """The header of the record table ``previous`` laid over ``table``'s columns: each header cell goes
    to the column of ``table`` under its centre. None when ``previous`` has no header, a role finds no
    column, or ``table``'s rows do not print times where the header says (it is another table)."""
    rows = [[c for c in previous.cells if c.row == r] for r in range(previous.n_rows)]
    has_day_rows = any(_day_row(r, language) for r in rows)
    header = next((row for row in rows[: _header_rows(rows)] if header_roles(row, day_rows=has_day_rows)), None)
    if header is None:
        return None
    spans: dict[int, tuple[float, float]] = {}
    for cell in table.cells:
        if cell.bbox is not None and cell.colspan == 1:
            x0, x1 = spans.get(cell.col, (cell.bbox.x0, cell.bbox.x1))
            spans[cell.col] = (min(x0, cell.bbox.x0), max(x1, cell.bbox.x1))
    if not spans and table.n_cols != previous.n_cols:
        return None

    def column(cell: Cell) -> int | None:
        if not spans:
            return cell.col
        if cell.bbox is None:
            return None
        centre = cell.bbox.center[0]
        return next((col for col, (x0, x1) in spans.items() if x0 <= centre < x1), None)

    header_text: dict[int, str] = {}
    for cell in header:
        col = column(cell)
        if col is not None and cell.text.strip():
            header_text[col] = " ".join(cell.text.split())
    roles: dict[str, int] = {}
    for col, text in sorted(header_text.items()):
        for role in _roles(text):
            roles.setdefault(role, col)
    if "subject" not in roles or not ({"start", "time", "period"} & roles.keys()):
        return None
    time_col = roles.get("start", roles.get("time"))
    if time_col is not None:
        timed = [c for c in table.cells if c.col == time_col and find_times(c.text)]
        if len(timed) < max(1, table.n_rows // 2):
            return None
    return roles, header_text


def _day_in(text: str, language: str | None) -> Day | None:
    """A day named by the first word of a longer cell ('Monday 10:00')."""
    first = text.split()[0] if text.split() else ""
    return parse_day(first, language)


def _kind(text: str, language: str | None) -> Kind:
    try:
        from timetable_platform.reading.cells import classify_kind
    except ImportError:
        return "break" if re.search(r"break|lunch|pause|recess", text, re.IGNORECASE) else "lesson"
    return classify_kind(text, language)
