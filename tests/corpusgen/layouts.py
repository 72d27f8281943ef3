"""Timetables with exact ground truth, and the abstract document that prints them.

``make_document(rng, fmt, name)`` picks a recipe (orientation, time style, language, list or record
style, A/B weeks, teacher timetable, Saturday...), builds the truth ``Timetable`` and the blocks
(headings, paragraphs, grids with merges) that ``render.py`` turns into PDF, DOCX, XLSX or CSV.
The truth follows ``../shared/corpus/README.md``'s rules: one entry per day per block, a merged
double period is one entry, a full-width break is one entry per day, times 24-hour.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from timetable_platform.domain.model import DAYS, Entry, Owner, Timetable

Lang = Literal["en", "de", "fr", "es", "it", "nl"]
LANGS: tuple[Lang, ...] = ("en", "de", "fr", "es", "it", "nl")
Style = Literal["grid", "list", "records"]
IMAGE_FORMATS = ("png", "scan", "photo")
TimeStyle = Literal["range", "start_only", "12h_ampm", "12h_plain", "period_only"]

DAY_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    ),
    "de": (
        ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
        ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    ),
    "fr": (
        ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"),
        ("Lun", "Mar", "Mer", "Jeu", "Ven", "Sam", "Dim"),
    ),
    "es": (
        ("Lunes", "Martes", "Miércoles", "Jueves", "Viernes", "Sábado", "Domingo"),
        ("Lun", "Mar", "Mié", "Jue", "Vie", "Sáb", "Dom"),
    ),
    "it": (
        ("Lunedì", "Martedì", "Mercoledì", "Giovedì", "Venerdì", "Sabato", "Domenica"),
        ("Lun", "Mar", "Mer", "Gio", "Ven", "Sab", "Dom"),
    ),
    "nl": (
        ("Maandag", "Dinsdag", "Woensdag", "Donderdag", "Vrijdag", "Zaterdag", "Zondag"),
        ("Ma", "Di", "Wo", "Do", "Vr", "Za", "Zo"),
    ),
}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "break": "Break",
        "lunch": "Lunch",
        "other": "Registration",
        "time": "Time",
        "week": "Week",
        "period": "Period",
        "title_class": "Class {name} Timetable",
        "title_teacher": "{name} – Timetable",
    },
    "de": {
        "break": "Pause",
        "lunch": "Mittagspause",
        "other": "Klassenrat",
        "time": "Zeit",
        "week": "Woche",
        "period": "Std.",
        "title_class": "Stundenplan Klasse {name}",
        "title_teacher": "Stundenplan {name}",
    },
    "fr": {
        "break": "Récréation",
        "lunch": "Déjeuner",
        "other": "Vie de classe",
        "time": "Horaire",
        "week": "Semaine",
        "period": "Heure",
        "title_class": "Emploi du temps – Classe {name}",
        "title_teacher": "Emploi du temps – {name}",
    },
    "es": {
        "break": "Recreo",
        "lunch": "Comida",
        "other": "Tutoría",
        "time": "Hora",
        "week": "Semana",
        "period": "Sesión",
        "title_class": "Horario – Clase {name}",
        "title_teacher": "Horario – {name}",
    },
    "it": {
        "break": "Intervallo",
        "lunch": "Pranzo",
        "other": "Accoglienza",
        "time": "Orario",
        "week": "Settimana",
        "period": "Ora",
        "title_class": "Orario – Classe {name}",
        "title_teacher": "Orario – {name}",
    },
    "nl": {
        "break": "Pauze",
        "lunch": "Middagpauze",
        "other": "Mentoruur",
        "time": "Tijd",
        "week": "Week",
        "period": "Uur",
        "title_class": "Lesrooster klas {name}",
        "title_teacher": "Lesrooster {name}",
    },
}

RECORD_HEADERS: dict[str, dict[str, str]] = {
    "en": {
        "day": "Day",
        "start": "Start",
        "end": "End",
        "period": "Period",
        "subject": "Subject",
        "teacher": "Teacher",
        "room": "Room",
        "group": "Class",
        "week": "Week",
    },
    "de": {
        "day": "Tag",
        "start": "Beginn",
        "end": "Ende",
        "period": "Stunde",
        "subject": "Fach",
        "teacher": "Lehrer",
        "room": "Raum",
        "group": "Klasse",
        "week": "Woche",
    },
    "fr": {
        "day": "Jour",
        "start": "Début",
        "end": "Fin",
        "period": "Heure",
        "subject": "Matière",
        "teacher": "Professeur",
        "room": "Salle",
        "group": "Classe",
        "week": "Semaine",
    },
    "es": {
        "day": "Día",
        "start": "Inicio",
        "end": "Fin",
        "period": "Sesión",
        "subject": "Asignatura",
        "teacher": "Profesor",
        "room": "Aula",
        "group": "Grupo",
        "week": "Semana",
    },
    "it": {
        "day": "Giorno",
        "start": "Inizio",
        "end": "Fine",
        "period": "Ora",
        "subject": "Materia",
        "teacher": "Docente",
        "room": "Aula",
        "group": "Classe",
        "week": "Settimana",
    },
    "nl": {
        "day": "Dag",
        "start": "Begin",
        "end": "Einde",
        "period": "Uur",
        "subject": "Vak",
        "teacher": "Docent",
        "room": "Lokaal",
        "group": "Klas",
        "week": "Week",
    },
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "en": (
        "Maths",
        "English",
        "Science",
        "History",
        "Geography",
        "French",
        "Art & Design",
        "Music",
        "PE",
        "Computing",
        "Biology",
        "Chemistry",
        "Physics",
        "Drama",
        "RE",
        "Spanish",
    ),
    "de": (
        "Mathe",
        "Deutsch",
        "Englisch",
        "Biologie",
        "Chemie",
        "Physik",
        "Geschichte",
        "Erdkunde",
        "Kunst",
        "Musik",
        "Sport",
        "Religion",
        "Informatik",
        "Französisch",
    ),
    "fr": (
        "Mathématiques",
        "Français",
        "Anglais",
        "Histoire-Géo",
        "SVT",
        "Physique-Chimie",
        "Arts plastiques",
        "Musique",
        "EPS",
        "Technologie",
        "Espagnol",
    ),
    "es": (
        "Matemáticas",
        "Lengua",
        "Inglés",
        "Historia",
        "Biología",
        "Física y Química",
        "Música",
        "Educación Física",
        "Tecnología",
        "Plástica",
        "Francés",
    ),
    "it": (
        "Matematica",
        "Italiano",
        "Inglese",
        "Storia",
        "Geografia",
        "Scienze",
        "Arte",
        "Musica",
        "Educazione fisica",
        "Tecnologia",
        "Latino",
    ),
    "nl": (
        "Wiskunde",
        "Nederlands",
        "Engels",
        "Geschiedenis",
        "Aardrijkskunde",
        "Biologie",
        "Natuurkunde",
        "Scheikunde",
        "Muziek",
        "Tekenen",
        "Frans",
        "Duits",
    ),
}

TEACHER_TITLES: dict[str, tuple[str, ...]] = {
    "en": ("Mr", "Ms", "Mrs", "Dr"),
    "de": ("Hr.", "Fr."),
    "fr": ("M.", "Mme"),
    "es": ("Sr.", "Sra."),
    "it": ("Prof.", "Prof.ssa"),
    "nl": ("Dhr.", "Mevr."),
}
SURNAMES: dict[str, tuple[str, ...]] = {
    "en": (
        "Okafor",
        "Patel",
        "Ellis",
        "Murphy",
        "Hughes",
        "Khan",
        "Walsh",
        "Turner",
        "Nowak",
        "Reid",
        "Bailey",
    ),
    "de": ("Müller", "Schmidt", "Weber", "Becker", "Wagner", "Krause", "Vogel", "Lange", "Brandt", "Keller"),
    "fr": ("Durand", "Martin", "Lefèvre", "Moreau", "Girard", "Roux", "Fournier", "Bonnet", "Lambert"),
    "es": ("García", "López", "Martínez", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz", "Molina"),
    "it": ("Rossi", "Bianchi", "Russo", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci", "Greco"),
    "nl": ("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos"),
}
ROOM_FORMS = ("R{n}", "Lab {k}", "A-{n2}", "B{n}", "S{n}", "{n}")
SPECIAL_ROOMS: dict[str, tuple[str, ...]] = {
    "en": ("Sports Hall", "Gym", "Library", "ICT 1"),
    "de": ("Sporthalle", "Aula", "Bibliothek", "PC-Raum 1"),
    "fr": ("Gymnase", "CDI", "Salle 12", "Labo 2"),
    "es": ("Gimnasio", "Aula 3", "Biblioteca", "Lab. 1"),
    "it": ("Palestra", "Aula 5", "Biblioteca", "Lab. 2"),
    "nl": ("Gymzaal", "Lokaal 12", "Mediatheek", "Lab 1"),
}
GROUPS = ("7B", "8C", "9M", "10S", "11R", "12A", "5b", "6a", "2B", "3C")


# --------------------------------------------------------------------------- the abstract document


@dataclass
class Grid:
    """A table: ``cells[r][c]`` is the cell's lines; a merged cell sits at its top-left slot,
    ``spans[(r, c)] = (rowspan, colspan)``, and the slots it covers hold ``None``."""

    cells: list[list[list[str] | None]]
    spans: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    header_rows: int = 1
    header_cols: int = 1
    ruled: bool = True

    @property
    def n_rows(self) -> int:
        return len(self.cells)

    @property
    def n_cols(self) -> int:
        return max(len(r) for r in self.cells)


@dataclass
class Heading:
    text: str
    level: int = 1


@dataclass
class Paragraph:
    text: str
    bold: bool = False


Block = Grid | Heading | Paragraph


@dataclass
class GeneratedDocument:
    name: str
    fmt: str  # pdf, docx, xlsx, csv, png, scan, photo
    blocks: list[Block]
    truth: Timetable
    features: dict[str, object]


# --------------------------------------------------------------------------- the school day


@dataclass
class Slot:
    start: int  # minutes since midnight
    end: int
    kind: Literal["lesson", "break", "other"]
    label: str | None  # period label as printed (lessons only)
    word: str | None = None  # printed text of a break / registration slot


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _school_day(rng: random.Random, lang: Lang, start_only: bool, period_style: str) -> list[Slot]:
    words = WORDS[lang]
    t = rng.choice((8 * 60, 8 * 60 + 15, 8 * 60 + 30, 8 * 60 + 40))
    gap = 0 if start_only else rng.choice((0, 5, 5, 10))
    lesson = rng.choice((45, 50, 55, 60))
    n_lessons = rng.randint(5, 7)
    slots: list[Slot] = []
    if rng.random() < 0.45:
        slots.append(Slot(t, t + rng.choice((10, 15, 20)), "other", None, words["other"]))
        t = slots[-1].end + gap
    break_after = rng.randint(2, 3)
    lunch_after = rng.randint(break_after + 1, min(n_lessons - 1, break_after + 3))
    for n in range(1, n_lessons + 1):
        slots.append(Slot(t, t + lesson, "lesson", _period_label(n, period_style, lang)))
        t = slots[-1].end + gap
        if n == break_after:
            slots.append(Slot(t, t + rng.choice((15, 20)), "break", None, words["break"]))
            t = slots[-1].end + gap
        elif n == lunch_after:
            slots.append(Slot(t, t + rng.choice((35, 40, 45, 60)), "break", None, words["lunch"]))
            t = slots[-1].end + gap
    return slots


def _period_label(n: int, style: str, lang: Lang) -> str | None:
    word = WORDS[lang]["period"]
    return {
        "none": None,
        "number": str(n),
        "dotted": f"{n}.",
        "p": f"P{n}",
        "word": f"{word} {n}",
        "word_after": f"{n}. {word}",
    }[style]


def _clock(minutes: int, style: TimeStyle, rng_choice: str) -> str:
    hours, mins = divmod(minutes, 60)
    if style in ("12h_ampm", "12h_plain"):
        h12 = hours % 12 or 12
        text = f"{h12}:{mins:02d}" if rng_choice != "dot" else f"{h12}.{mins:02d}"
        if style == "12h_ampm":
            suffix = "am" if hours < 12 else "pm"
            return f"{text}{suffix}" if rng_choice != "spaced" else f"{text} {suffix.upper()}"
        return text
    if rng_choice == "dot":
        return f"{hours}.{mins:02d}"
    if rng_choice == "h":
        return f"{hours}h{mins:02d}"
    if rng_choice == "short":
        return f"{hours}:{mins:02d}"
    return f"{hours:02d}:{mins:02d}"


@dataclass
class Recipe:
    lang: Lang
    style: Style
    time_style: TimeStyle
    days_as_columns: bool
    owner_kind: Literal["class", "teacher"]
    weeks: tuple[str, ...]  # () or ("A", "B")
    saturday: bool
    doubles: bool
    merged_breaks: bool
    ruled: bool
    period_style: str
    clock_variant: str
    separator: str
    cell_layout: str  # stacked | comma | subject_room
    abbreviated_days: bool
    # Some cells print their own time: a late start overriding the header, or two short blocks in one slot.
    in_cell_times: bool = False


def pick_recipe(rng: random.Random, fmt: str) -> Recipe:
    lang: Lang = rng.choice(LANGS)
    style: Style = rng.choices(("grid", "list", "records"), weights=(6, 2, 2))[0]
    if fmt == "xlsx" and style == "list":
        style = "records"
    if fmt == "csv":
        style = rng.choice(("grid", "records"))
    if fmt in IMAGE_FORMATS:  # one page of grid: an image holds no second page
        style = "grid"
    time_style: TimeStyle = rng.choices(
        ("range", "start_only", "12h_ampm", "12h_plain", "period_only"), weights=(5, 1, 1, 1, 1)
    )[0]
    if style != "grid" and time_style in ("start_only", "period_only"):
        time_style = "range"
    period_style = rng.choice(("none", "number", "dotted", "p", "word", "word_after"))
    if time_style == "period_only" and period_style == "none":
        period_style = "number"
    clock_variant = rng.choice(
        ("zero", "short", "dot", "spaced")
        if time_style.startswith("12h")
        else ("zero", "zero", "short", "dot", "h" if lang == "fr" else "zero")
    )
    return Recipe(
        lang=lang,
        style=style,
        time_style=time_style,
        days_as_columns=rng.random() < 0.6,
        owner_kind="teacher" if rng.random() < 0.25 else "class",
        weeks=("A", "B") if rng.random() < 0.2 and fmt not in IMAGE_FORMATS else (),
        saturday=rng.random() < 0.15,
        doubles=fmt != "csv" and rng.random() < 0.6,
        merged_breaks=fmt != "csv" and rng.random() < 0.7,
        ruled=rng.random() < 0.7,
        period_style=period_style,
        clock_variant=clock_variant,
        separator=rng.choice(("-", " - ", "–", " – ")),
        cell_layout=rng.choice(("stacked", "comma", "subject_room")),
        abbreviated_days=rng.random() < 0.35,
        in_cell_times=style == "grid" and time_style in ("range", "12h_ampm") and rng.random() < 0.3,
    )


# --------------------------------------------------------------------------- truth


@dataclass
class Lesson:
    subject: str
    teacher: str | None
    room: str | None
    group: str | None


@dataclass
class Placed:
    """A block at its first slot: ``n`` slots long; ``parts`` when the cell prints its own time(s)."""

    lesson: Lesson
    n: int
    parts: list[tuple[int, int, Lesson]] | None = None  # (start, end, lesson) in minutes


def _people(rng: random.Random, lang: Lang, n: int) -> list[str]:
    names = rng.sample(SURNAMES[lang], k=min(n, len(SURNAMES[lang])))
    if rng.random() < 0.3:  # schools that print staff codes
        return sorted({name.replace(" ", "").upper()[:3] for name in names})
    return [f"{rng.choice(TEACHER_TITLES[lang])} {name}" for name in names]


def _room(rng: random.Random, lang: Lang) -> str:
    if rng.random() < 0.15:
        return rng.choice(SPECIAL_ROOMS[lang])
    form = rng.choice(ROOM_FORMS)
    return form.format(n=rng.randint(101, 320), k=rng.randint(1, 4), n2=f"{rng.randint(1, 20):02d}")


def _lesson_pool(rng: random.Random, recipe: Recipe) -> list[Lesson]:
    subjects = rng.sample(SUBJECTS[recipe.lang], k=min(9, len(SUBJECTS[recipe.lang])))
    teachers = _people(rng, recipe.lang, len(subjects))
    pool = []
    for i, subject in enumerate(subjects):
        teacher = teachers[i % len(teachers)]
        group = rng.choice(GROUPS) if recipe.owner_kind == "teacher" else None
        pool.append(
            Lesson(
                subject, None if recipe.owner_kind == "teacher" else teacher, _room(rng, recipe.lang), group
            )
        )
    return pool


def _in_cell_parts(
    rng: random.Random, recipe: Recipe, slot: Slot, lesson: Lesson, pool: list[Lesson]
) -> list[tuple[int, int, Lesson]] | None:
    if not recipe.in_cell_times or rng.random() >= 0.15:
        return None
    if recipe.owner_kind == "class" and rng.random() < 0.5:
        middle = slot.start + (slot.end - slot.start) // 10 * 5
        other = rng.choice([p for p in pool if p.subject != lesson.subject] or pool)
        return [
            (slot.start, middle, Lesson(lesson.subject, None, None, None)),
            (middle, slot.end, Lesson(other.subject, None, None, None)),
        ]
    return [(slot.start + rng.choice((5, 10, 15)), slot.end, lesson)]


def make_document(rng: random.Random, fmt: str, name: str, recipe: Recipe | None = None) -> GeneratedDocument:
    recipe = recipe or pick_recipe(rng, fmt)
    lang = recipe.lang
    start_only = recipe.time_style == "start_only"
    slots = _school_day(rng, lang, start_only, recipe.period_style)
    days = list(DAYS[:6] if recipe.saturday else DAYS[:5])
    pool = _lesson_pool(rng, recipe)

    if recipe.owner_kind == "teacher":
        teacher_name = _people(random.Random(rng.random()), lang, 1)[0]
        if teacher_name.isupper():
            teacher_name = f"{TEACHER_TITLES[lang][0]} {rng.choice(SURNAMES[lang])}"
        owner = Owner(kind="teacher", name=teacher_name)
        title = WORDS[lang]["title_teacher"].format(name=teacher_name)
    else:
        group = rng.choice(GROUPS)
        owner = Owner(kind="class", name=group)
        title = WORDS[lang]["title_class"].format(name=group)

    lesson_idx = [i for i, s in enumerate(slots) if s.kind == "lesson"]
    weeks: tuple[str | None, ...] = recipe.weeks or (None,)
    # plan[week][day][slot index] = (Lesson, n_slots) at a block's first slot; None = empty; "covered"
    plan: dict[str | None, dict[str, dict[int, Placed | str | None]]] = {}
    for week in weeks:
        plan[week] = {}
        for day in days:
            row: dict[int, Placed | str | None] = {}
            k = 0
            while k < len(lesson_idx):
                i = lesson_idx[k]
                free_rate = 0.25 if recipe.owner_kind == "teacher" else 0.04
                if rng.random() < free_rate:
                    row[i] = None
                    k += 1
                    continue
                lesson = rng.choice(pool)
                nxt = lesson_idx[k + 1] if k + 1 < len(lesson_idx) else None
                if recipe.doubles and nxt == i + 1 and rng.random() < 0.25:
                    row[i] = Placed(lesson, 2)
                    row[nxt] = "covered"
                    k += 2
                    continue
                row[i] = Placed(lesson, 1, _in_cell_parts(rng, recipe, slots[i], lesson, pool))
                k += 1
            plan[week][day] = row

    end_of_day = slots[-1].end

    # With start-only times a block ends where the next starts, the last at the printed end of day.
    def slot_end(i: int, n: int = 1) -> int:
        if start_only:
            return slots[i + n].start if i + n < len(slots) else end_of_day
        return slots[i + n - 1].end

    untimed = recipe.time_style == "period_only"
    entries: list[Entry] = []
    for week in weeks:
        for day in days:
            for i, slot in enumerate(slots):
                start = None if untimed else _hhmm(slot.start)
                if slot.kind != "lesson":
                    entries.append(
                        Entry(
                            day=day,
                            start=start,
                            end=None if untimed else _hhmm(slot_end(i)),
                            period=None,
                            kind=slot.kind,
                            subject=slot.word or "",
                            week=week,
                        )
                    )
                    continue
                cell = plan[week][day].get(i)
                if not isinstance(cell, Placed):
                    continue
                for part_start, part_end, part in cell.parts or []:
                    entries.append(
                        Entry(day=day, start=_hhmm(part_start), end=_hhmm(part_end), period=slot.label,
                              kind="lesson", subject=part.subject, teacher=part.teacher, room=part.room,
                              group=part.group, week=week)
                    )  # fmt: skip
                if cell.parts:
                    continue
                lesson, n = cell.lesson, cell.n
                entries.append(
                    Entry(
                        day=day,
                        start=start,
                        end=None if untimed else _hhmm(slot_end(i, n)),
                        period=slot.label,
                        kind="lesson",
                        subject=lesson.subject,
                        teacher=lesson.teacher,
                        room=lesson.room,
                        group=lesson.group,
                        week=week,
                    )
                )
    if recipe.style == "list":  # list lines print no period labels
        entries = [e.model_copy(update={"period": None}) for e in entries]
    truth = Timetable(title=title, owner=owner, entries=entries)

    blocks: list[Block] = [Heading(title)]
    if recipe.style == "grid":
        for week in weeks:
            if week:
                blocks.append(Heading(f"{WORDS[lang]['week']} {week}", level=2))
            blocks.append(_grid(recipe, slots, days, plan[week]))
    elif recipe.style == "records":
        blocks.append(_records(recipe, truth))
    else:
        blocks.extend(_listing(recipe, truth))
    features = {k: v for k, v in recipe.__dict__.items()}
    return GeneratedDocument(name=name, fmt=fmt, blocks=blocks, truth=truth, features=features)


# --------------------------------------------------------------------------- printing


def _day_label(recipe: Recipe, day: str) -> str:
    full, short = DAY_NAMES[recipe.lang]
    return (short if recipe.abbreviated_days else full)[DAYS.index(day)]


def _time_text(recipe: Recipe, start: int, end: int | None) -> str:
    a = _clock(start, recipe.time_style, recipe.clock_variant)
    if end is None or recipe.time_style == "start_only":
        return a
    return f"{a}{recipe.separator}{_clock(end, recipe.time_style, recipe.clock_variant)}"


def _cell_lines(recipe: Recipe, lesson: Lesson) -> list[str]:
    if recipe.owner_kind == "teacher":
        parts = [lesson.group or "", lesson.subject, lesson.room or ""]
        return [p for p in parts if p]
    if recipe.cell_layout == "stacked":
        return [p for p in (lesson.subject, lesson.teacher, lesson.room) if p]
    if recipe.cell_layout == "comma":
        return [lesson.subject, ", ".join(p for p in (lesson.teacher, lesson.room) if p)]
    return [p for p in (lesson.subject, lesson.room, lesson.teacher) if p]


def _slot_header(recipe: Recipe, slot: Slot) -> list[str]:
    lines = []
    if slot.label and slot.kind == "lesson":
        lines.append(slot.label)
    if recipe.time_style != "period_only":
        lines.append(_time_text(recipe, slot.start, slot.end))
    return lines


def _grid(
    recipe: Recipe, slots: list[Slot], days: list[str], plan: dict[str, dict[int, Placed | str | None]]
) -> Grid:
    """Rows are slots and columns days (transposed at the end for days-as-rows)."""
    n_rows = len(slots) + 1
    cells: list[list[list[str] | None]] = [[[] for _ in range(len(days) + 1)] for _ in range(n_rows)]
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    cells[0][0] = [WORDS[recipe.lang]["time"]] if recipe.time_style != "period_only" else []
    for c, day in enumerate(days, start=1):
        cells[0][c] = [_day_label(recipe, day)]
    for i, slot in enumerate(slots):
        r = i + 1
        cells[r][0] = _slot_header(recipe, slot)
        if slot.kind != "lesson":
            if recipe.merged_breaks:
                cells[r][1] = [slot.word or ""]
                for c in range(2, len(days) + 1):
                    cells[r][c] = None
                spans[(r, 1)] = (1, len(days))
            else:
                for c in range(1, len(days) + 1):
                    cells[r][c] = [slot.word or ""]
            continue
        for c, day in enumerate(days, start=1):
            cell = plan[day].get(i)
            if cell == "covered":
                cells[r][c] = None
            elif isinstance(cell, Placed):
                lesson, n = cell.lesson, cell.n
                cells[r][c] = _cell_lines(recipe, lesson)
                if cell.parts and len(cell.parts) == 1:  # a late start printed under the lesson
                    part_start, part_end, _ = cell.parts[0]
                    cells[r][c] = [*_cell_lines(recipe, lesson), _time_text(recipe, part_start, part_end)]
                elif cell.parts:  # short blocks, one line each: "09:00-09:25 Phonics"
                    cells[r][c] = [f"{_time_text(recipe, a, b)} {part.subject}" for a, b, part in cell.parts]
                if n > 1:
                    spans[(r, c)] = (n, 1)
    if recipe.time_style == "start_only":
        # The end of the day, printed as one more (empty) time slot.
        end_row: list[list[str] | None] = [[_clock(slots[-1].end, "start_only", recipe.clock_variant)]]
        cells.append(end_row + [[] for _ in days])
    grid = Grid(cells=cells, spans=spans, ruled=recipe.ruled)
    return grid if recipe.days_as_columns else _transpose(grid)


def _transpose(grid: Grid) -> Grid:
    n_rows, n_cols = grid.n_rows, grid.n_cols
    cells = [[grid.cells[r][c] for r in range(n_rows)] for c in range(n_cols)]
    spans = {(c, r): (cs, rs) for (r, c), (rs, cs) in grid.spans.items()}
    return Grid(
        cells=cells, spans=spans, header_rows=grid.header_cols, header_cols=grid.header_rows, ruled=grid.ruled
    )


def _records(recipe: Recipe, truth: Timetable) -> Grid:
    headers = RECORD_HEADERS[recipe.lang]
    columns = ["day", "start", "end"]
    if any(e.period for e in truth.entries):
        columns.append("period")
    columns.append("subject")
    if recipe.owner_kind == "teacher":
        columns += ["group", "room"]
    else:
        columns += ["teacher", "room"]
    if recipe.weeks:
        columns.insert(0, "week")
    rows: list[list[list[str] | None]] = [[[headers[c]] for c in columns]]
    for entry in truth.sorted_entries():
        row: list[list[str] | None] = []
        for col in columns:
            if col == "day":
                row.append([_day_label(recipe, entry.day)])
            elif col in ("start", "end"):
                value = getattr(entry, col)
                minutes = int(value[:2]) * 60 + int(value[3:]) if value else None
                row.append(
                    [_clock(minutes, recipe.time_style, recipe.clock_variant)] if minutes is not None else []
                )
            else:
                value = getattr(entry, col)
                row.append([value] if value else [])
        rows.append(row)
    return Grid(cells=rows, header_rows=1, header_cols=0, ruled=recipe.ruled)


def _listing(recipe: Recipe, truth: Timetable) -> list[Block]:
    blocks: list[Block] = []
    by_key: dict[tuple[str | None, str], list[Entry]] = {}
    for entry in truth.sorted_entries():
        by_key.setdefault((entry.week, entry.day), []).append(entry)
    current_week: str | None = None
    for (week, day), entries in by_key.items():
        if week and week != current_week:
            blocks.append(Heading(f"{WORDS[recipe.lang]['week']} {week}", level=2))
            current_week = week
        blocks.append(Paragraph(_day_label(recipe, day), bold=True))
        for e in entries:
            assert e.start and e.end
            times = _time_text(
                recipe, int(e.start[:2]) * 60 + int(e.start[3:]), int(e.end[:2]) * 60 + int(e.end[3:])
            )
            extras = [v for v in (e.group, e.teacher, e.room) if v]
            text = f"{times}  {e.subject}" + (f" ({', '.join(extras)})" if extras else "")
            blocks.append(Paragraph(text))
    return blocks
