"""Record tables exported from school systems: one row per block, headed day / start / end / subject / ...

Headers are recognised in English, German, French, Spanish, Italian and Dutch. Fields come from their own
columns, so no cell splitting is needed; names are kept as printed.
"""

from __future__ import annotations

import re

from timetable_platform.domain.days import parse_day
from timetable_platform.domain.layout import Cell, Table
from timetable_platform.domain.model import Entry, Kind
from timetable_platform.domain.text import fold
from timetable_platform.domain.times import Clock, find_times, school_day, school_day_range

# Column role -> header words (folded, no accents). Order matters: the first role whose words match wins.
_ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "day": ("day", "weekday", "tag", "wochentag", "jour", "dia", "giorno", "dag", "weekdag", "dia da semana"),
    "start": (
        "start",
        "start time",
        "from",
        "begin",
        "beginn",
        "von",
        "debut",
        "heure de debut",
        "inicio",
        "hora de inicio",
        "comienzo",
        "inizio",
        "ora inizio",
        "van",
        "begintijd",
        "starttijd",
        "anfang",
    ),
    "end": (
        "end",
        "end time",
        "finish",
        "to",
        "until",
        "ende",
        "bis",
        "fin",
        "heure de fin",
        "hora de fin",
        "fine",
        "ora fine",
        "eind",
        "eindtijd",
        "tot",
        "einde",
        "termine",
    ),
    "time": (
        "time",
        "times",
        "zeit",
        "uhrzeit",
        "heure",
        "horaire",
        "hora",
        "horario",
        "ora",
        "orario",
        "tijd",
    ),
    "period": (
        "period",
        "lesson no",
        "stunde",
        "std",
        "periode",
        "periodo",
        "sesion",
        "lezione",
        "uur",
        "#",
        "slot",
        "block",
        "nr",
        "no",
    ),
    "subject": (
        "subject",
        "course",
        "activity",
        "lesson",
        "fach",
        "unterrichtsfach",
        "matiere",
        "cours",
        "asignatura",
        "materia",
        "vak",
        "event",
        "description",
    ),
    "teacher": (
        "teacher",
        "staff",
        "tutor",
        "lehrer",
        "lehrerin",
        "lehrkraft",
        "enseignant",
        "professeur",
        "prof",
        "profesor",
        "docente",
        "insegnante",
        "docent",
        "leraar",
    ),
    "room": ("room", "raum", "salle", "aula", "sala", "lokaal", "location", "venue", "ort", "lieu"),
    "group": (
        "group",
        "class",
        "form",
        "klasse",
        "gruppe",
        "groupe",
        "classe",
        "grupo",
        "clase",
        "gruppo",
        "klas",
        "groep",
        "year group",
    ),
    "week": ("week", "woche", "semaine", "semana", "settimana", "week a/b", "rotation"),
    "notes": (
        "notes",
        "note",
        "comment",
        "comments",
        "bemerkung",
        "hinweis",
        "remarque",
        "nota",
        "notas",
        "opmerking",
    ),
}


def _role(text: str) -> str | None:
    key = re.sub(r"[\s_./:()]+", " ", fold(text)).strip()
    if not key:
        return None
    for role, words in _ROLE_WORDS.items():
        if key in words:
            return role
    return None


def header_roles(cells: list[Cell]) -> dict[str, int] | None:
    """Role -> column when this row is a record header (it needs day, subject and a time or period)."""
    roles: dict[str, int] = {}
    for cell in cells:
        role = _role(cell.text)
        if role and role not in roles:
            roles[role] = cell.col
    if "day" in roles and "subject" in roles and ({"start", "time", "period"} & roles.keys()):
        return roles
    return None


def read_records(table: Table, *, language: str | None = None, page: int | None = None) -> list[Entry] | None:
    """Entries of a record table, or None when the table is not one."""
    m = table.grid()
    for header_row in range(min(3, table.n_rows)):
        row_cells = [c for c in table.cells if c.row == header_row]
        roles = header_roles(row_cells)
        if roles:
            break
    else:
        return None
    entries: list[Entry] = []
    reference: Clock | None = None
    last_day = None
    for r in range(header_row + 1, table.n_rows):

        def value(role: str, r: int = r) -> str | None:
            col = roles.get(role)
            if col is None or col >= table.n_cols:
                return None
            cell = m[r][col]
            text = " ".join(cell.text.split()) if cell is not None else ""
            return text or None

        day_text = value("day")
        day = parse_day(day_text, language) if day_text else last_day
        subject = value("subject")
        if day is None or not subject:
            continue
        if day != last_day:  # a new day: times start again from the morning
            reference = None
            last_day = day
        start = end = None
        start_text, end_text, time_text = value("start"), value("end"), value("time")
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
                notes=value("notes"),
                confidence=1.0 if start is not None or value("period") else 0.8,
                page=page,
            )
        )
    return entries or None


def _kind(text: str, language: str | None) -> Kind:
    try:
        from timetable_platform.reading.cells import classify_kind
    except ImportError:
        return "break" if re.search(r"break|lunch|pause|recess", text, re.IGNORECASE) else "lesson"
    return classify_kind(text, language)
