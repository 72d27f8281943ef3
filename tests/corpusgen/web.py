"""A second corpus generator: timetables styled like web pages and apps, rendered by headless Chromium.

``generate(out_dir, count=N, seed=S, formats=..., families=...)`` writes ``NAME.png`` / ``NAME.jpg`` +
``NAME.json`` pairs and ``manifest.jsonl``. Each document picks one of eight families (``FAMILIES``):
a school portal page, an aSc-style and an Untis-style export, a calendar-app week, a dark-mode phone
screenshot, a printed list, a zebra-striped grid with letter-spaced break bands, and a records table.
``EXTRA_FAMILIES`` are made only when named (so that a seed's default documents stay the same):
"asc_print", an aSc export as colleges print and pin it (lunch down one column, periods split between
two batches, course codes after the names). The page is HTML + CSS written here, screenshotted full-page through Playwright with Debian's
Chromium (one browser for the whole batch); "scan" and "photo" pass the screenshot through
``degrade.py`` as ``render.py`` does. "pdf" is the same page printed by Chromium (``Page.printToPDF``)
to a digital PDF with a text layer: backgrounds printed, on landscape A4, portrait Letter or the page's
own size, scaled to fit the page's width as a browser's "fit to width" does, the rest flowing onto
further sheets.

The truth follows ``layouts.py``'s conventions: one entry per day per block, a double period is one
entry with the combined range and the first label, a full-width break is one entry per day (its word
as the subject, even when printed letter-spaced), empty cells give no entry, ``period`` only where a
label is printed, times 24-hour. What the page does not print (breaks an export leaves out) is not in
the truth. Same seed, same documents.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from pathlib import Path
from typing import Any

from babel.dates import format_skeleton, get_day_names

from timetable_platform.domain.model import DAYS, Entry, Owner, Source, Timetable

from . import layouts
from .layouts import Lesson
from .render import EXTENSIONS, MEDIA_TYPES, _pdf_pages

FAMILIES = ("portal", "asc", "untis", "calendar", "dark", "list", "zebra", "records")
# Asked for by name only, so that the default families' documents stay the same for a seed.
EXTRA_FAMILIES = ("asc_print",)
FORMATS = ("png", "scan", "photo", "pdf")
LANGS = ("en", "de", "fr", "es", "it", "nl", "pt", "id")

# --------------------------------------------------------------------------- words (layouts.py's + pt, id)

WORDS: dict[str, dict[str, str]] = {
    **layouts.WORDS,
    "pt": {"break": "Intervalo", "lunch": "Almoço", "other": "Acolhimento", "time": "Horário",
           "week": "Semana", "period": "Aula", "title_class": "Horário – Turma {name}",
           "title_teacher": "Horário – {name}"},
    "id": {"break": "Istirahat", "lunch": "Ishoma", "other": "Upacara", "time": "Waktu", "week": "Minggu",
           "period": "Jam", "title_class": "Jadwal Pelajaran Kelas {name}",
           "title_teacher": "Jadwal Mengajar {name}"},
}  # fmt: skip
SUBJECTS: dict[str, tuple[str, ...]] = {
    **layouts.SUBJECTS,
    "pt": ("Matemática", "Português", "Inglês", "História", "Geografia", "Ciências Naturais", "Física",
           "Química", "Biologia", "Educação Física", "Artes", "Filosofia"),
    "id": ("Matematika", "Bahasa Indonesia", "Bahasa Inggris", "IPA", "IPS", "PKn", "Seni Budaya", "PJOK",
           "Pendidikan Agama", "Informatika", "Sejarah", "Fisika"),
}  # fmt: skip
TEACHER_TITLES: dict[str, tuple[str, ...]] = {**layouts.TEACHER_TITLES, "pt": ("Prof.", "Profª"),
                                               "id": ("Bpk.", "Ibu")}  # fmt: skip
SURNAMES: dict[str, tuple[str, ...]] = {
    **layouts.SURNAMES,
    "pt": ("Silva", "Santos", "Oliveira", "Sousa", "Pereira", "Costa", "Almeida", "Ferreira", "Carvalho"),
    "id": ("Santoso", "Wijaya", "Hidayat", "Saputra", "Lestari", "Kurniawan", "Setiawan", "Pratama", "Nugroho"),
}  # fmt: skip
SPECIAL_ROOMS: dict[str, tuple[str, ...]] = {
    **layouts.SPECIAL_ROOMS,
    "pt": ("Pavilhão", "Biblioteca", "Lab. 2", "Sala 12"),
    "id": ("Lab Komputer", "Aula", "Perpustakaan", "Lapangan"),
}  # fmt: skip
# Day | Start | End | Course | Instructor | Room (| Class on a teacher's page)
RECORD_HEADERS: dict[str, tuple[str, ...]] = {
    "en": ("Day", "Start", "End", "Course", "Instructor", "Room", "Class"),
    "de": ("Tag", "Beginn", "Ende", "Fach", "Lehrkraft", "Raum", "Klasse"),
    "fr": ("Jour", "Début", "Fin", "Cours", "Enseignant", "Salle", "Classe"),
    "es": ("Día", "Inicio", "Fin", "Asignatura", "Profesor", "Aula", "Grupo"),
    "it": ("Giorno", "Inizio", "Fine", "Materia", "Docente", "Aula", "Classe"),
    "nl": ("Dag", "Begin", "Einde", "Vak", "Docent", "Lokaal", "Klas"),
    "pt": ("Dia", "Início", "Fim", "Disciplina", "Professor", "Sala", "Turma"),
    "id": ("Hari", "Mulai", "Selesai", "Mata Pelajaran", "Guru", "Ruang", "Kelas"),
}
# Page furniture that is not timetable: nav entries, the advert, the school, and a few app words.
UI: dict[str, dict[str, Any]] = {
    "en": {"nav": ("Home", "Timetable", "Homework", "Grades", "Messages", "Calendar"),
           "ad": "Summer Science Camp – sign up now!", "school": "Riverside Academy", "today": "Today",
           "week": "Week", "search": "Search:", "shown": "Showing 1 to {n} of {n} entries", "free": "Free"},
    "de": {"nav": ("Startseite", "Stundenplan", "Hausaufgaben", "Noten", "Nachrichten", "Kalender"),
           "ad": "Jetzt anmelden: Sommer-Sprachcamp!", "school": "Gymnasium am Stadtpark", "today": "Heute",
           "week": "Woche", "search": "Suchen:", "shown": "Einträge 1 bis {n} von {n}", "free": "Frei"},
    "fr": {"nav": ("Accueil", "Emploi du temps", "Devoirs", "Notes", "Messagerie", "Agenda"),
           "ad": "Stage d'été – inscrivez-vous !", "school": "Collège Jean Moulin", "today": "Aujourd'hui",
           "week": "Semaine", "search": "Rechercher :", "shown": "Affichage de 1 à {n} sur {n}", "free": "Libre"},
    "es": {"nav": ("Inicio", "Horario", "Deberes", "Notas", "Mensajes", "Calendario"),
           "ad": "Campamento de verano: ¡inscríbete ya!", "school": "IES Miguel de Cervantes", "today": "Hoy",
           "week": "Semana", "search": "Buscar:", "shown": "Mostrando 1 a {n} de {n}", "free": "Libre"},
    "it": {"nav": ("Home", "Orario", "Compiti", "Voti", "Messaggi", "Calendario"),
           "ad": "Campus estivo: iscriviti ora!", "school": "Liceo Galileo Galilei", "today": "Oggi",
           "week": "Settimana", "search": "Cerca:", "shown": "Voci da 1 a {n} di {n}", "free": "Libero"},
    "nl": {"nav": ("Start", "Rooster", "Huiswerk", "Cijfers", "Berichten", "Agenda"),
           "ad": "Zomerkamp: schrijf je nu in!", "school": "Stedelijk Lyceum", "today": "Vandaag",
           "week": "Week", "search": "Zoeken:", "shown": "1 tot {n} van {n} resultaten", "free": "Vrij"},
    "pt": {"nav": ("Início", "Horário", "Trabalhos", "Notas", "Mensagens", "Calendário"),
           "ad": "Colónia de férias: inscreve-te já!", "school": "Escola Secundária de Camões", "today": "Hoje",
           "week": "Semana", "search": "Pesquisar:", "shown": "A mostrar 1 a {n} de {n}", "free": "Livre"},
    "id": {"nav": ("Beranda", "Jadwal", "Tugas", "Nilai", "Pesan", "Kalender"),
           "ad": "Daftar sekarang: Kemah Sains Liburan!", "school": "SMP Negeri 1 Bandung", "today": "Hari ini",
           "week": "Minggu", "search": "Cari:", "shown": "Menampilkan 1 sampai {n} dari {n}", "free": "Kosong"},
}  # fmt: skip
GROUPS = layouts.GROUPS
FONTS = (  # only DejaVu is guaranteed on Debian; the names before it are what real pages ask for
    "Roboto, 'Segoe UI', 'DejaVu Sans', sans-serif",
    "'Helvetica Neue', Arial, 'DejaVu Sans', sans-serif",
    "'Open Sans', 'DejaVu Sans Condensed', sans-serif",
    "Georgia, 'DejaVu Serif', serif",
    "Verdana, 'DejaVu Sans', sans-serif",
    "'Source Sans Pro', 'DejaVu Sans Condensed', sans-serif",
)
MONO = "'Courier New', 'DejaVu Sans Mono', monospace"
# Subject colours: strong ones carry white text, pastels dark text.
STRONG = ("#1e88e5", "#43a047", "#e53935", "#8e24aa", "#fb8c00", "#00897b", "#3949ab", "#6d4c41",
          "#d81b60", "#546e7a", "#c0ca33", "#00acc1", "#5e35b1", "#f4511e")  # fmt: skip
PASTEL = ("#ffd6d6", "#d6f5d6", "#d6e4ff", "#fff3c4", "#f0d9ff", "#c9f2ef", "#ffe0c2", "#e6e6e6",
          "#fcd5ec", "#dcedc8", "#c5cae9", "#ffecb3", "#b2ebf2", "#f8bbd0")  # fmt: skip


def day_names(lang: str, width: str) -> list[str]:
    """Monday..Sunday from Babel's CLDR data, capitalised as a heading prints them."""
    names = get_day_names(width, locale=lang)
    return [names[i][:1].upper() + names[i][1:] for i in range(7)]


# --------------------------------------------------------------------------- times


@dataclass(frozen=True)
class Clock:
    h12: bool
    variant: str  # 24 h: zero "08:00", short "8:00", dot "8.00"; 12 h: upper "8:00 AM", lower "8:00am"
    sep: str

    def at(self, minutes: int) -> str:
        hours, mins = divmod(minutes, 60)
        if self.h12:
            text = f"{hours % 12 or 12}:{mins:02d}"
            suffix = "AM" if hours < 12 else "PM"
            return f"{text} {suffix}" if self.variant == "upper" else f"{text}{suffix.lower()}"
        if self.variant == "short":
            return f"{hours}:{mins:02d}"
        if self.variant == "dot":
            return f"{hours}.{mins:02d}"
        return f"{hours:02d}:{mins:02d}"

    def span(self, start: int, end: int) -> str:
        return f"{self.at(start)}{self.sep}{self.at(end)}"

    def hour(self, hours: int) -> str:
        """An hour line's label: '8 AM' or '08:00'."""
        if self.h12:
            return f"{hours % 12 or 12} {'AM' if hours < 12 else 'PM'}"
        return f"{hours:02d}:00" if self.variant != "short" else f"{hours}:00"


def pick_clock(rng: random.Random, lang: str, separators: Sequence[str] = (" - ", "–", " – ", "-")) -> Clock:
    if lang == "en" and rng.random() < 0.45:
        return Clock(True, rng.choice(("upper", "lower")), rng.choice(separators))
    return Clock(False, rng.choice(("zero", "zero", "short", "dot")), rng.choice(separators))


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --------------------------------------------------------------------------- the week


@dataclass
class Slot:
    start: int
    end: int
    kind: str  # lesson | break | other
    label: str  # period number for lessons, the word for the others


@dataclass
class Event:
    """One printed block: a lesson, break or registration on one day (``slot``/``span`` in grid families)."""

    day: str
    start: int
    end: int
    kind: str
    subject: str
    teacher: str | None = None
    room: str | None = None
    group: str | None = None
    period: str | None = None  # the label as the page prints it, else None
    slot: int = -1
    span: int = 1


@dataclass
class Week:
    lang: str
    days: list[str]
    slots: list[Slot]
    events: list[Event]
    owner: Owner
    title: str
    clock: Clock
    colours: dict[str, str]  # subject -> colour

    def at(self, day: str, slot: int) -> Event | None:
        return next((e for e in self.events if e.day == day and e.slot == slot), None)

    def covered(self, day: str, slot: int) -> bool:
        return any(e.day == day and e.slot < slot < e.slot + e.span for e in self.events)

    def of_day(self, day: str) -> list[Event]:
        return sorted((e for e in self.events if e.day == day), key=lambda e: e.start)


def _people(rng: random.Random, lang: str, n: int, codes: bool) -> list[str]:
    names = rng.sample(SURNAMES[lang], k=min(n, len(SURNAMES[lang])))
    if codes:  # staff codes, as timetabling software prints them
        return [name.replace(" ", "").upper()[:3] for name in names]
    return [f"{rng.choice(TEACHER_TITLES[lang])} {name}" for name in names]


def _room(rng: random.Random, lang: str) -> str:
    if rng.random() < 0.15:
        return rng.choice(SPECIAL_ROOMS[lang])
    form = rng.choice(layouts.ROOM_FORMS)
    return form.format(n=rng.randint(101, 320), k=rng.randint(1, 4), n2=f"{rng.randint(1, 20):02d}")


def _pool(rng: random.Random, lang: str, teacher_owner: bool, codes: bool) -> list[Lesson]:
    subjects = rng.sample(SUBJECTS[lang], k=min(9, len(SUBJECTS[lang])))
    teachers = _people(rng, lang, len(subjects), codes)
    return [
        Lesson(s, None if teacher_owner else teachers[i % len(teachers)], _room(rng, lang),
               rng.choice(GROUPS) if teacher_owner else None)
        for i, s in enumerate(subjects)
    ]  # fmt: skip


def _colours(rng: random.Random, pool: list[Lesson], palette: Sequence[str]) -> dict[str, str]:
    shades = list(palette)
    rng.shuffle(shades)
    return {lesson.subject: shades[i % len(shades)] for i, lesson in enumerate(pool)}


def _school_day(rng: random.Random, lang: str, registration: bool) -> list[Slot]:
    words = WORDS[lang]
    t = rng.choice((7 * 60 + 30, 7 * 60 + 45, 8 * 60, 8 * 60 + 10, 8 * 60 + 15, 8 * 60 + 30))
    gap = rng.choice((0, 5, 5, 10))
    length = rng.choice((40, 45, 45, 50, 55, 60))
    n_lessons = rng.randint(5, 8)
    slots: list[Slot] = []
    if registration:
        slots.append(Slot(t, t + rng.choice((10, 15, 20)), "other", words["other"]))
        t = slots[-1].end + gap
    break_after = rng.randint(2, 3)
    lunch_after = rng.randint(break_after + 1, min(n_lessons - 1, break_after + 3))
    for n in range(1, n_lessons + 1):
        slots.append(Slot(t, t + length, "lesson", str(n)))
        t = slots[-1].end + gap
        if n in (break_after, lunch_after):
            word, minutes = (
                (words["break"], (15, 20, 25)) if n == break_after else (words["lunch"], (30, 45, 60))
            )
            slots.append(Slot(t, t + rng.choice(minutes), "break", word))
            t = slots[-1].end + gap
    return slots


def _owner(rng: random.Random, lang: str, teacher_owner: bool) -> tuple[Owner, str]:
    if teacher_owner:
        name = f"{rng.choice(TEACHER_TITLES[lang])} {rng.choice(SURNAMES[lang])}"
        return Owner(kind="teacher", name=name), WORDS[lang]["title_teacher"].format(name=name)
    group = rng.choice(GROUPS)
    return Owner(kind="class", name=group), WORDS[lang]["title_class"].format(name=group)


def plan_grid(
    rng: random.Random,
    lang: str,
    *,
    teacher_owner: bool = False,
    doubles: bool = True,
    registration: bool = False,
    codes: bool | None = None,
    palette: Sequence[str] = STRONG,
    clock: Clock | None = None,
) -> Week:
    """A week on a bell schedule: each lesson slot of each day holds a lesson, a double or nothing."""
    codes = rng.random() < 0.3 if codes is None else codes
    days = list(DAYS[:6] if rng.random() < 0.12 else DAYS[:5])
    slots = _school_day(rng, lang, registration)
    pool = _pool(rng, lang, teacher_owner, codes)
    owner, title = _owner(rng, lang, teacher_owner)
    events: list[Event] = []
    for day in days:
        i = 0
        while i < len(slots):
            slot = slots[i]
            if slot.kind != "lesson":
                events.append(Event(day, slot.start, slot.end, slot.kind, slot.label, slot=i))
                i += 1
                continue
            if rng.random() < (0.22 if teacher_owner else 0.05):
                i += 1
                continue
            lesson = rng.choice(pool)
            n = (
                2
                if doubles and i + 1 < len(slots) and slots[i + 1].kind == "lesson" and rng.random() < 0.22
                else 1
            )
            end = slots[i + n - 1].end
            events.append(Event(day, slot.start, end, "lesson", lesson.subject, lesson.teacher, lesson.room,
                                lesson.group, slot.label, slot=i, span=n))  # fmt: skip
            i += n
    return Week(
        lang, days, slots, events, owner, title, clock or pick_clock(rng, lang), _colours(rng, pool, palette)
    )


def plan_free(rng: random.Random, lang: str, *, days: list[str], lunch: bool, codes: bool = False) -> Week:
    """A week without a bell schedule (university, calendar app): blocks at irregular times."""
    pool = _pool(rng, lang, False, codes)
    owner, title = _owner(rng, lang, False)
    events: list[Event] = []
    for day in days:
        t = rng.choice((7 * 60 + 45, 8 * 60, 8 * 60 + 10, 8 * 60 + 15, 8 * 60 + 30, 9 * 60 + 5))
        had_lunch = False
        while True:
            length = rng.choice((45, 50, 60, 75, 90, 90, 100))
            if t + length > 16 * 60 + 45:
                break
            if lunch and not had_lunch and t >= 11 * 60 + 40:
                lunch_len = rng.choice((30, 45, 60))
                events.append(Event(day, t, t + lunch_len, "break", WORDS[lang]["lunch"]))
                t += lunch_len + rng.choice((0, 5, 10))
                had_lunch = True
                continue
            lesson = rng.choice(pool)
            events.append(Event(day, t, t + length, "lesson", lesson.subject, lesson.teacher, lesson.room))
            t += length + rng.choice((0, 5, 10, 10, 15, 20, 25, 30, 45))
            if len([e for e in events if e.day == day]) >= rng.randint(4, 7):
                break
    return Week(lang, days, [], events, owner, title, pick_clock(rng, lang, (" – ", "–", " - ")),
                _colours(rng, pool, STRONG))  # fmt: skip


def truth_of(week: Week, events: Sequence[Event] | None = None, *, periods: bool) -> Timetable:
    entries = [
        Entry(day=e.day, start=hhmm(e.start), end=hhmm(e.end), period=e.period if periods and e.kind == "lesson" else None,
              kind=e.kind, subject=e.subject, teacher=e.teacher, room=e.room, group=e.group)  # type: ignore[arg-type]
        for e in (week.events if events is None else events)
    ]  # fmt: skip
    return Timetable(title=week.title, owner=week.owner, entries=entries)


# --------------------------------------------------------------------------- the page


@dataclass
class Page:
    """What one document is before the browser: the HTML, how to shoot it, and its truth."""

    family: str
    lang: str
    html: str
    width: int  # CSS pixels
    scale: float  # device pixels per CSS pixel
    truth: Timetable
    features: dict[str, Any] = field(default_factory=dict)


def _e(text: object) -> str:
    return escape(str(text))


def _text_on(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#fff" if 0.299 * r + 0.587 * g + 0.114 * b < 160 else "#222"


def _doc(css: str, body: str, lang: str) -> str:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><style>'
            f"*{{box-sizing:border-box}}html,body{{margin:0}}{css}</style></head><body>{body}</body></html>")  # fmt: skip


def _lines(e: Event, *, teacher_first: bool = True) -> list[str]:
    """A lesson's small lines under its subject: teacher (or class) and room."""
    who = e.teacher or e.group
    parts = [who, e.room] if teacher_first else [e.room, who]
    return [p for p in parts if p]


def _day_labels(
    lang: str, rng: random.Random, widths: Sequence[str] = ("wide", "abbreviated", "short")
) -> list[str]:
    labels = day_names(lang, rng.choice(widths))
    return [label.rstrip(".") for label in labels] if rng.random() < 0.5 else labels


def portal(rng: random.Random) -> Page:
    lang = rng.choice(LANGS)
    ui = UI[lang]
    teacher_owner = rng.random() < 0.2
    week = plan_grid(rng, lang, teacher_owner=teacher_owner, registration=rng.random() < 0.3,
                     palette=STRONG if rng.random() < 0.7 else PASTEL)  # fmt: skip
    breaks = rng.random() < 0.7
    labels = rng.random() < 0.5
    font = rng.choice(FONTS)
    size = rng.choice((12, 13, 14, 15))
    accent = rng.choice(("#1565c0", "#2e7d32", "#6a1b9a", "#c62828", "#00695c", "#37474f", "#ef6c00"))
    grid = rng.choice(("none", "thin", "gap"))
    dayl = _day_labels(lang, rng, ("wide", "abbreviated"))
    teacher_first = rng.random() < 0.7
    rows = []
    head = "".join(f"<th>{_e(dayl[DAYS.index(d)])}</th>" for d in week.days)
    rows.append(f"<tr><th class=corner></th>{head}</tr>")
    for i, slot in enumerate(week.slots):
        time = _e(week.clock.span(slot.start, slot.end))
        if slot.kind != "lesson":
            if not breaks:
                continue
            rows.append(f"<tr class=brk><th class=time>{time}</th>"
                        f"<td colspan={len(week.days)}>{_e(slot.label)}</td></tr>")  # fmt: skip
            continue
        label = f"<div class=pl>{_e(slot.label)}.</div>" if labels else ""
        cells = []
        for day in week.days:
            if week.covered(day, i):
                continue
            e = week.at(day, i)
            if e is None:
                cells.append("<td></td>")
                continue
            bg = week.colours[e.subject]
            small = "".join(f"<div class=sm>{_e(x)}</div>" for x in _lines(e, teacher_first=teacher_first))
            cells.append(f"<td rowspan={e.span}><div class=blk style='background:{bg};color:{_text_on(bg)}'>"
                         f"<b>{_e(e.subject)}</b>{small}</div></td>")  # fmt: skip
        rows.append(f"<tr><th class=time>{label}{time}</th>{''.join(cells)}</tr>")
    printed = [e for e in week.events if breaks or e.kind == "lesson"]
    nav = "".join(f"<li class={'on' if k == 1 else ''}>{_e(x)}</li>" for k, x in enumerate(ui["nav"]))
    border = {"none": "border:0", "thin": "border:1px solid #e3e3e3", "gap": "border:0"}[grid]
    css = f"""
body{{font-family:{font};font-size:{size}px;background:#f4f6f8;color:#222}}
.top{{background:{accent};color:#fff;padding:12px 24px;display:flex;justify-content:space-between;align-items:center}}
.top .logo{{font-size:{size + 6}px;font-weight:bold}} .wrap{{display:flex;gap:18px;padding:18px}}
nav{{width:170px;background:#fff;border-radius:6px;padding:8px 0;flex:none}} nav ul{{list-style:none;margin:0;padding:0}}
nav li{{padding:9px 16px;color:#555}} nav li.on{{background:{accent}22;color:{accent};font-weight:bold;border-left:4px solid {accent}}}
main{{flex:1;background:#fff;border-radius:6px;padding:16px 20px}} h1{{font-size:{size + 8}px;margin:0 0 12px}}
.tt{{border-collapse:{"separate" if grid == "gap" else "collapse"};border-spacing:3px;width:100%}}
.tt th,.tt td{{{border};padding:{2 if grid == "gap" else 4}px;vertical-align:top}}
.tt th{{color:#555;font-weight:600;text-align:center}} .tt th.time{{text-align:left;white-space:nowrap;color:#666;font-weight:normal}}
.pl{{font-weight:bold;color:{accent}}}
.blk{{border-radius:{rng.choice((0, 3, 6))}px;padding:6px 8px;min-height:44px;height:100%}} .blk b{{display:block}}
.sm{{font-size:{size - 2}px;opacity:.9}}
tr.brk td{{background:#eceff1;color:#607d8b;text-align:center;font-style:italic;padding:3px}}
aside{{width:200px;flex:none}} .ad{{background:#fff8e1;border:1px solid #ffe082;border-radius:6px;padding:14px;color:#8d6e00}}
.ad .big{{font-size:{size + 4}px;font-weight:bold;margin-bottom:6px}} footer{{color:#999;padding:0 24px 18px;font-size:{size - 2}px}}
"""
    ad = f"<div class=ad><div class=big>{_e(ui['ad'])}</div>www.{_e(ui['school'].split()[-1].lower())}.example</div>"
    body = (f"<div class=top><span class=logo>{_e(ui['school'])}</span><span>{_e(ui['nav'][0])} · ☰</span></div>"
            f"<div class=wrap><nav><ul>{nav}</ul></nav><main><h1>{_e(week.title)}</h1>"
            f"<table class=tt>{''.join(rows)}</table></main><aside>{ad}</aside></div>"
            f"<footer>© {_e(ui['school'])}</footer>")  # fmt: skip
    return Page("portal", lang, _doc(css, body, lang), rng.choice((1280, 1366, 1440)), rng.choice((1, 1.5, 2)),
                truth_of(week, printed, periods=labels),
                {"breaks": breaks, "period_labels": labels, "grid": grid, "teacher_owner": teacher_owner,
                 "h12": week.clock.h12})  # fmt: skip


def asc(rng: random.Random) -> Page:
    lang = rng.choice(LANGS)
    week = plan_grid(rng, lang, codes=rng.random() < 0.8, palette=PASTEL)
    lessons = [i for i, s in enumerate(week.slots) if s.kind == "lesson"]
    show_class = rng.random() < 0.6
    font = rng.choice(FONTS)
    size = rng.choice((11, 12, 13))
    dayl = _day_labels(lang, rng, ("wide", "abbreviated", "short"))
    head = "".join(f"<th><div class=pn>{_e(week.slots[i].label)}</div>"
                   f"<div class=pt>{_e(week.clock.span(week.slots[i].start, week.slots[i].end))}</div></th>"
                   for i in lessons)  # fmt: skip
    rows = [f"<tr><th class=corner></th>{head}</tr>"]
    group_text = week.owner.name
    for day in week.days:
        cells = []
        for i in lessons:
            if week.covered(day, i):
                continue
            e = week.at(day, i)
            if e is None:
                cells.append("<td class=empty></td>")
                continue
            if show_class:
                e.group = group_text
            corner = f"<span class=cls>{_e(group_text)}</span>" if show_class else ""
            left, right = (
                (e.teacher or "", e.room or "") if rng.random() < 0.5 else (e.room or "", e.teacher or "")
            )
            cells.append(f"<td colspan={e.span} style='background:{week.colours[e.subject]}'><div class=c>{corner}"
                         f"<span class=sj>{_e(e.subject)}</span><span class=bl>{_e(left)}</span>"
                         f"<span class=br>{_e(right)}</span></div></td>")  # fmt: skip
        rows.append(f"<tr><th class=day>{_e(dayl[DAYS.index(day)])}</th>{''.join(cells)}</tr>")
    css = f"""
body{{font-family:{font};font-size:{size}px;background:#fff;color:#000;padding:22px}}
h1{{text-align:center;font-size:{size + 12}px;margin:0 0 4px}} .sub{{text-align:center;margin-bottom:12px}}
table{{border-collapse:collapse;width:100%;table-layout:fixed}} th,td{{border:{rng.choice((1, 2))}px solid #000}}
th{{background:#fff}} th.corner{{width:80px}} th.day{{font-size:{size + 6}px;font-weight:bold}}
.pn{{font-size:{size + 12}px;font-weight:bold;line-height:1.1}} .pt{{font-size:{size - 2}px;font-weight:normal}}
.c{{position:relative;height:{rng.choice((62, 70, 78))}px}}
.sj{{position:absolute;left:0;right:0;top:36%;text-align:center;font-weight:bold;font-size:{size + 3}px;line-height:1.05}}
.cls{{position:absolute;left:3px;top:2px;font-size:{size - 2}px}}
.bl{{position:absolute;left:3px;bottom:2px;font-size:{size - 2}px}} .br{{position:absolute;right:3px;bottom:2px;font-size:{size - 2}px}}
.foot{{display:flex;justify-content:space-between;font-size:{size - 2}px;margin-top:6px}}
"""
    body = (f"<h1>{_e(week.owner.name)}</h1><div class=sub>{_e(UI[lang]['school'])}</div>"
            f"<table>{''.join(rows)}</table>"
            f"<div class=foot><span>{_e(week.title)}</span><span>aSc Timetables</span></div>")  # fmt: skip
    printed = [e for e in week.events if e.kind == "lesson"]
    truth = truth_of(week, printed, periods=True).model_copy(update={"title": week.owner.name})
    return Page("asc", lang, _doc(css, body, lang), rng.choice((1200, 1300, 1400)), rng.choice((1, 1.5, 2)), truth,
                {"show_class": show_class, "h12": week.clock.h12})  # fmt: skip


def asc_print(rng: random.Random) -> Page:
    """An aSc export as colleges print and pin it: days as rows, each period's number over its times in 12-hour
    clock without am/pm, the lunch column one cell down all days with its word printed letter under letter,
    course codes in brackets after the subject, the room in a block's top-left corner and the teacher bottom
    right, and a lab block split into halves for two batches ('Group 1' over 'Group 2')."""
    lang = "en" if rng.random() < 0.7 else rng.choice(LANGS)
    week = plan_grid(rng, lang, codes=True, palette=PASTEL)
    lunch = next((i for i, s in enumerate(week.slots) if s.kind == "break" and s.label == WORDS[lang]["lunch"]), None)
    shown = [i for i, s in enumerate(week.slots) if s.kind == "lesson" or i == lunch]
    week.events = [e for e in week.events if e.kind == "lesson" or e.slot == lunch]
    prefix = "".join(rng.choice("ABCDEKMPST") for _ in range(3))
    codes = {s: f"{prefix}{rng.randint(1, 4)}{rng.randint(0, 9)}{rng.randint(1, 9)}" for s in week.colours}
    batches = ("Group 1", "Group 2") if rng.random() < 0.7 else ("G1", "G2")
    initials = ("SPG", "NG", "RKS", "AKM", "VT", "PRJ", "MSK", "DKS")
    staff = {s: " / ".join(rng.sample(initials, k=1 + (rng.random() < 0.2))) for s in week.colours}
    lessons = [e for e in week.events if e.kind == "lesson"]
    for e in lessons:
        e.teacher = staff[e.subject]
        e.subject = f"{e.subject} ({codes[e.subject]})"
    for e in rng.sample(lessons, k=min(len(lessons), rng.randint(1, 4))):
        other = rng.choice([x for x in lessons if x.subject != e.subject] or lessons)
        e.group = batches[0]
        week.events.append(Event(e.day, e.start, e.end, "lesson", other.subject, other.teacher, _room(rng, lang),
                                 batches[1], e.period, slot=e.slot, span=e.span))  # fmt: skip

    def clock(minutes: int) -> str:
        hours, mins = divmod(minutes, 60)
        return f"{hours % 12 or 12:02d}:{mins:02d}"

    font = rng.choice(FONTS)
    size = rng.choice((10, 11, 12))
    dayl = _day_labels(lang, rng, ("wide", "abbreviated"))
    head = "".join(f"<th><div class=pn>{_e(week.slots[i].label) if i != lunch else ''}</div>"
                   f"<div class=pt>{clock(week.slots[i].start)} - {clock(week.slots[i].end)}</div></th>"
                   for i in shown)  # fmt: skip
    rows = [f"<tr><th class=corner></th>{head}</tr>"]

    def block(e: Event) -> str:
        batch = f"<span class=gr>{_e(e.group)}</span>" if e.group else ""
        return (f"<div class=c style='background:{week.colours.get(e.subject.rsplit(' (', 1)[0], '#eee')}'>"
                f"<span class=rm>{_e(e.room or '')}</span>{batch}<span class=sj>{_e(e.subject)}</span>"
                f"<span class=tc>{_e(e.teacher or '')}</span></div>")  # fmt: skip

    for row, day in enumerate(week.days):
        cells = []
        for i in shown:
            if i == lunch:
                if row == 0:
                    letters = "<br>".join(_e(ch) for ch in WORDS[lang]["lunch"].upper() if ch != " ")
                    cells.append(f"<td rowspan={len(week.days)} class=lunch>{letters}</td>")
                continue
            if week.covered(day, i):
                continue
            here = [e for e in week.events if e.day == day and e.slot == i]
            if not here:
                cells.append("<td class=empty></td>")
                continue
            cells.append(f"<td colspan={here[0].span}>{''.join(block(e) for e in here)}</td>")
        rows.append(f"<tr><th class=day>{_e(dayl[DAYS.index(day)])}</th>{''.join(cells)}</tr>")
    height = rng.choice((72, 80, 88))
    css = f"""
body{{font-family:{font};font-size:{size}px;background:#fff;color:#000;padding:22px}}
h1{{text-align:center;font-size:{size + 12}px;margin:0 0 4px}} .sub{{text-align:center;margin-bottom:12px}}
table{{border-collapse:collapse;width:100%;table-layout:fixed}} th,td{{border:{rng.choice((1, 2))}px solid #000;padding:0}}
th.corner{{width:96px}} th.day{{font-size:{size + 5}px;font-weight:bold}} td.lunch{{width:34px;text-align:center;
font-weight:bold;font-size:{size + 4}px;line-height:1.3;vertical-align:middle}}
.pn{{font-size:{size + 10}px;font-weight:bold;line-height:1.1}} .pt{{font-size:{size - 1}px;font-weight:normal}}
.c{{position:relative;height:{height}px}} td .c + .c{{border-top:1px solid #000}}
td .c:has(+ .c), td .c + .c{{height:{height // 2}px}}
.sj{{position:absolute;left:0;right:0;top:34%;text-align:center;font-weight:bold;font-size:{size + 1}px;line-height:1.05}}
.rm{{position:absolute;left:3px;top:2px;font-size:{size - 2}px}} .gr{{position:absolute;right:3px;top:2px;font-size:{size - 2}px}}
.tc{{position:absolute;right:3px;bottom:2px;font-size:{size - 2}px}}
.foot{{display:flex;justify-content:space-between;font-size:{size - 2}px;margin-top:6px}}
"""
    body = (f"<h1>{_e(UI[lang]['school'])}</h1><div class=sub>{_e(week.title)}</div>"
            f"<table>{''.join(rows)}</table>"
            f"<div class=foot><span>{_e(week.title)}</span><span>aSc Timetables</span></div>")  # fmt: skip
    truth = truth_of(week, periods=True).model_copy(update={"title": week.title})
    return Page("asc_print", lang, _doc(css, body, lang), rng.choice((1300, 1400, 1500)), rng.choice((1.5, 2)),
                truth, {"lunch": lunch is not None, "batches": batches[0]})  # fmt: skip


def untis(rng: random.Random) -> Page:
    lang = rng.choice(LANGS)
    teacher_owner = rng.random() < 0.25
    week = plan_grid(rng, lang, teacher_owner=teacher_owner, clock=Clock(False, "short", "-"))
    font = rng.choice(FONTS)
    size = rng.choice((11, 12, 13, 14))
    dayl = _day_labels(lang, rng, ("wide", "abbreviated"))
    head = "".join(f"<th>{_e(dayl[DAYS.index(d)])}</th>" for d in week.days)
    rows = [f"<tr class=hd><th></th>{head}</tr>"]
    for i, slot in enumerate(week.slots):
        if slot.kind != "lesson":
            continue
        period = (f"<th class=p><span class=n>{_e(slot.label)}</span><span class=t><small>{week.clock.at(slot.start)}"
                  f"</small><small>{week.clock.at(slot.end)}</small></span></th>")  # fmt: skip
        cells = []
        for day in week.days:
            if week.covered(day, i):
                continue
            e = week.at(day, i)
            if e is None:
                cells.append("<td></td>")
                continue
            lines = "".join(f"<div>{_e(x)}</div>" for x in _lines(e))
            cells.append(f"<td rowspan={e.span}><div class=s>{_e(e.subject)}</div>{lines}</td>")
        rows.append(f"<tr>{period}{''.join(cells)}</tr>")
    css = f"""
body{{font-family:{font};font-size:{size}px;color:#111;background:#fff}}
.band{{background:#d9d9d9;padding:8px 14px;display:flex;justify-content:space-between;font-weight:bold}}
.band .t{{font-size:{size + 5}px}} .box{{padding:12px 14px}}
table{{border-collapse:collapse;width:100%;table-layout:fixed}} th,td{{border:1px solid #b8b8b8;padding:3px 5px;vertical-align:middle}}
tr.hd th{{background:#e7e7e7;font-weight:bold;padding:5px}} th.p{{width:70px;background:#f2f2f2}}
th.p .n{{font-size:{size + 8}px;font-weight:bold;vertical-align:middle;margin-right:6px}}
th.p .t{{display:inline-block;vertical-align:middle;font-size:{size - 2}px;font-weight:normal;line-height:1.25}}
th.p .t small{{display:block}} td{{text-align:center;height:{size * 4 + 6}px}} td .s{{font-weight:bold}}
{"td{background:#fdfde0}" if rng.random() < 0.3 else ""}
.foot{{color:#777;font-size:{size - 2}px;padding:6px 14px}}
"""
    body = (f"<div class=band><span class=t>{_e(week.title)}</span><span>{_e(UI[lang]['school'])}</span></div>"
            f"<div class=box><table>{''.join(rows)}</table></div><div class=foot>Untis 2025</div>")  # fmt: skip
    printed = [e for e in week.events if e.kind == "lesson"]
    return Page("untis", lang, _doc(css, body, lang), rng.choice((1000, 1100, 1200)), rng.choice((1, 1.5, 2)),
                truth_of(week, printed, periods=True), {"teacher_owner": teacher_owner})  # fmt: skip


def calendar(rng: random.Random) -> Page:
    lang = rng.choice(LANGS)
    days = list(DAYS[:5])
    week = plan_free(rng, lang, days=days, lunch=rng.random() < 0.35)
    font = rng.choice(FONTS)
    size = rng.choice((11, 12, 13))
    hour_px = rng.choice((64, 72, 80))
    first = min(e.start for e in week.events) // 60
    last = -(-max(e.end for e in week.events) // 60)
    first, last = max(first - rng.choice((0, 1)), 0), min(last + rng.choice((0, 1)), 23)
    monday = date(2025, 3, 3) + timedelta(weeks=rng.randint(0, 30))
    short = day_names(lang, "abbreviated")
    show_teacher = rng.random() < 0.4
    radius = rng.choice((4, 6, 8))
    heads, cols = [], []
    for d, day in enumerate(days):
        when = monday + timedelta(days=d)
        heads.append(
            f"<div class=dh><div class=dn>{_e(short[d].rstrip('.').upper())}</div><div class=dd>{when.day}</div></div>"
        )
        boxes = []
        for e in week.of_day(day):
            top = (e.start - first * 60) * hour_px / 60
            height = (e.end - e.start) * hour_px / 60 - 2
            bg = week.colours.get(e.subject, "#9e9e9e")
            extra = " · ".join(x for x in (e.room, e.teacher if show_teacher else None) if x)
            if not show_teacher:
                e.teacher = None
            boxes.append(f"<div class=ev style='top:{top:.1f}px;height:{height:.1f}px;background:{bg};color:{_text_on(bg)}'>"
                         f"<b>{_e(e.subject)}</b><div>{_e(week.clock.span(e.start, e.end))}</div>"
                         f"{f'<div>{_e(extra)}</div>' if extra else ''}</div>")  # fmt: skip
        cols.append(f"<div class=col>{''.join(boxes)}</div>")
    hours = "".join(f"<div class=hl style='top:{(h - first) * hour_px}px'><span>{_e(week.clock.hour(h))}</span></div>"
                    for h in range(first, last + 1))  # fmt: skip
    month = format_skeleton("yMMMM", monday, locale=lang)
    css = f"""
body{{font-family:{font};font-size:{size}px;color:#3c4043;background:#fff}}
.bar{{display:flex;align-items:center;gap:16px;padding:10px 18px;border-bottom:1px solid #dadce0}}
.bar .btn{{border:1px solid #dadce0;border-radius:4px;padding:6px 12px}} .bar .m{{font-size:{size + 9}px}}
.heads{{display:grid;grid-template-columns:64px repeat(5,1fr);border-bottom:1px solid #dadce0}}
.dh{{text-align:center;padding:6px 0}} .dn{{font-size:{size - 1}px;color:#70757a}} .dd{{font-size:{size + 12}px}}
.body{{position:relative;display:grid;grid-template-columns:64px repeat(5,1fr);height:{(last - first) * hour_px}px;margin:10px 0 20px}}
.hl{{position:absolute;left:56px;right:0;border-top:1px solid #e8eaed}}
.hl span{{position:absolute;left:-56px;top:-7px;width:48px;text-align:right;font-size:{size - 2}px;color:#70757a}}
.col{{position:relative;border-left:1px solid #e8eaed}}
.ev{{position:absolute;left:3px;right:6px;border-radius:{radius}px;padding:3px 6px;overflow:hidden;line-height:1.25;font-size:{size}px}}
"""
    body = (f"<div class=bar><span class=btn>{_e(UI[lang]['today'])}</span><span>‹ ›</span><span class=m>{_e(month)}</span>"
            f"<span class=btn style='margin-left:auto'>{_e(UI[lang]['week'])} ▾</span></div>"
            f"<div class=heads><div></div>{''.join(heads)}</div>"
            f"<div class=body>{hours}<div></div>{''.join(cols)}</div>")  # fmt: skip
    truth = truth_of(week, periods=False).model_copy(update={"title": None, "owner": None})
    return Page("calendar", lang, _doc(css, body, lang), rng.choice((1200, 1280, 1440)), rng.choice((1, 1.5, 2)),
                truth, {"show_teacher": show_teacher, "hour_px": hour_px, "h12": week.clock.h12})  # fmt: skip


def dark(rng: random.Random) -> Page:
    lang = rng.choice(LANGS)
    week = plan_grid(rng, lang, doubles=rng.random() < 0.4, clock=pick_clock(rng, lang, ("–", " – ", "-")))
    n_days = rng.choice((1, 1, 2, 3, 5))
    start = rng.randrange(0, len(week.days) - n_days + 1)
    shown = week.days[start : start + n_days]
    breaks = rng.random() < 0.5
    badges = rng.random() < 0.3
    font = rng.choice(FONTS)
    size = rng.choice((14, 15, 16))
    accent = rng.choice(("#8ab4f8", "#81c995", "#f28b82", "#c58af9", "#fdd663", "#78d9ec"))
    tabs = day_names(lang, "abbreviated")
    strip = "".join(f"<span class={'on' if d == shown[0] else ''}>{_e(tabs[DAYS.index(d)].rstrip('.'))}</span>"
                    for d in week.days)  # fmt: skip
    full = day_names(lang, "wide")
    printed: list[Event] = []
    parts = []
    for day in shown:
        cards = []
        for e in week.of_day(day):
            if e.kind != "lesson" and not breaks:
                continue
            printed.append(e)
            time = f"{_e(week.clock.at(e.start))}{_e(week.clock.sep)}{_e(week.clock.at(e.end))}"
            if e.kind != "lesson":
                cards.append(
                    f"<div class='card brk'><span class=tm>{time}</span><span>{_e(e.subject)}</span></div>"
                )
                continue
            badge = f"<span class=bd>{_e(e.period)}</span>" if badges else ""
            who = " | ".join(_e(x) for x in (e.teacher, e.room) if x)
            cards.append(f"<div class=card style='border-left-color:{week.colours[e.subject]}'>{badge}<span class=tm>{time}</span>"
                         f"<div class=tx><b>{_e(e.subject)}</b><div class=wh>{who}</div></div></div>")  # fmt: skip
        parts.append(f"<h2>{_e(full[DAYS.index(day)])}</h2>{''.join(cards)}")
    css = f"""
body{{font-family:{font};font-size:{size}px;background:#121212;color:#e8eaed}}
.status{{display:flex;justify-content:space-between;padding:10px 20px 6px;font-size:{size - 1}px;color:#bdc1c6}}
.app{{padding:10px 18px;font-size:{size + 6}px;font-weight:bold}}
.tabs{{display:flex;justify-content:space-around;border-bottom:1px solid #3c4043;padding:6px 0}}
.tabs span{{padding:8px 4px;color:#9aa0a6}} .tabs span.on{{color:{accent};border-bottom:3px solid {accent}}}
h2{{font-size:{size + 2}px;margin:18px 18px 8px;color:{accent}}}
.card{{display:flex;gap:12px;align-items:center;background:#202124;border-radius:12px;margin:8px 14px;padding:12px 14px;border-left:5px solid #5f6368}}
.card .tm{{color:#bdc1c6;font-size:{size - 1}px;white-space:nowrap;width:{8 if not week.clock.h12 else 10}em}}
.card .wh{{color:#9aa0a6;font-size:{size - 2}px;margin-top:3px}}
.card.brk{{background:transparent;border:1px dashed #3c4043;color:#9aa0a6;padding:6px 14px}}
.bd{{background:#3c4043;border-radius:50%;width:26px;height:26px;display:flex;align-items:center;justify-content:center;font-size:{size - 2}px}}
.nav{{display:flex;justify-content:space-around;padding:14px 0 22px;border-top:1px solid #3c4043;margin-top:18px;color:#9aa0a6;font-size:{size - 3}px}}
"""
    nav = "".join(f"<span>{_e(x)}</span>" for x in UI[lang]["nav"][:4])
    body = (f"<div class=status><span>9:41</span><span>▂▄▆ 87%</span></div><div class=app>{_e(week.title)}</div>"
            f"<div class=tabs>{strip}</div>{''.join(parts)}<div class=nav>{nav}</div>")  # fmt: skip
    # Portrait phone: 390 CSS px at device scale 3 (an iPhone) or ~1080 px at scale 1 (an Android capture).
    width, scale = rng.choice(((390, 3.0), (412, 2.625), (393, 2.75), (1080, 1.0)))
    if width == 1080:  # an Android capture: the same layout at ~2.7 device pixels per CSS pixel
        css += "html{zoom:2.7}"
    return Page("dark", lang, _doc(css, body, lang), width, scale, truth_of(week, printed, periods=badges),
                {"days_shown": len(shown), "breaks": breaks, "badges": badges, "h12": week.clock.h12})  # fmt: skip


def listing(rng: random.Random) -> Page:
    lang = rng.choice(LANGS)
    teacher_owner = rng.random() < 0.2
    week = plan_grid(rng, lang, teacher_owner=teacher_owner, registration=rng.random() < 0.3,
                     clock=pick_clock(rng, lang, (" - ", "-", " – ")))  # fmt: skip
    dated = rng.random() < 0.5
    monday = date(2025, 3, 3) + timedelta(weeks=rng.randint(0, 30))
    full = day_names(lang, "wide")
    font = rng.choice((*FONTS, MONO, MONO))
    size = rng.choice((13, 14, 15, 16))
    columns = rng.choice((1, 1, 2))
    parts = []
    for d, day in enumerate(week.days):
        heading = (
            format_skeleton("MMMMEEEEd", monday + timedelta(days=d), locale=lang)
            if dated
            else full[DAYS.index(day)]
        )
        heading = heading[:1].upper() + heading[1:]
        lines = []
        for e in week.of_day(day):
            extra = e.teacher or e.group
            who = f" ({_e(extra)})" if extra else ""
            room = f" {_e(e.room)}" if e.room else ""
            lines.append(f"<div class=ln><span class=t>{_e(week.clock.span(e.start, e.end))}</span>"
                         f"<span>{_e(e.subject)}{who}{room}</span></div>")  # fmt: skip
        parts.append(f"<section><h2>{_e(heading)}</h2>{''.join(lines)}</section>")
    css = f"""
body{{font-family:{font};font-size:{size}px;color:#111;background:#fff;padding:36px 48px}}
h1{{font-size:{size + 10}px;margin:0 0 4px}} .sub{{color:#555;margin-bottom:18px}}
.cols{{column-count:{columns};column-gap:48px}} section{{break-inside:avoid;margin-bottom:14px}}
h2{{font-size:{size + 2}px;margin:10px 0 6px;{rng.choice(("border-bottom:1px solid #999", "text-decoration:underline", ""))}}}
.ln{{display:flex;gap:{rng.choice((12, 18, 28))}px;padding:2px 0}} .t{{white-space:nowrap;min-width:{9 if not week.clock.h12 else 12}em}}
"""
    body = (f"<h1>{_e(week.title)}</h1><div class=sub>{_e(UI[lang]['school'])}</div>"
            f"<div class=cols>{''.join(parts)}</div>")  # fmt: skip
    return Page("list", lang, _doc(css, body, lang), rng.choice((900, 1000, 1100)), rng.choice((1, 1.5, 2)),
                truth_of(week, periods=False),
                {"dated": dated, "columns": columns, "teacher_owner": teacher_owner, "h12": week.clock.h12})  # fmt: skip


def zebra(rng: random.Random) -> Page:
    lang = rng.choice(LANGS)
    week = plan_grid(rng, lang, registration=rng.random() < 0.25)
    font = rng.choice(FONTS)
    size = rng.choice((12, 13, 14, 15))
    head_bg = rng.choice(("#1a237e", "#b71c1c", "#004d40", "#e65100", "#4a148c", "#263238", "#0277bd"))
    stripe = rng.choice(("#f2f2f2", "#eef4fb", "#f6f1e7", "#eef7ee"))
    spaced_chars = rng.random() < 0.5  # "B R E A K" typed with spaces, else CSS letter-spacing
    dayl = _day_labels(lang, rng, ("wide", "abbreviated"))
    head = "".join(f"<th>{_e(dayl[DAYS.index(d)])}</th>" for d in week.days)
    rows = [f"<tr class=hd><th>{_e(WORDS[lang]['time'])}</th>{head}</tr>"]
    for i, slot in enumerate(week.slots):
        time = _e(week.clock.span(slot.start, slot.end))
        if slot.kind == "break":
            word = " ".join(slot.label.upper()) if spaced_chars else _e(slot.label.upper())
            rows.append(f"<tr class=band><th>{time}</th><td colspan={len(week.days)}>{_e(word)}</td></tr>")
            continue
        cells = []
        for day in week.days:
            if week.covered(day, i):
                continue
            e = week.at(day, i)
            if e is None:
                cells.append("<td>–</td>")
                continue
            small = "<br>".join(_e(x) for x in _lines(e))
            cells.append(f"<td rowspan={e.span}><b>{_e(e.subject)}</b><br><small>{small}</small></td>")
        rows.append(f"<tr><th>{time}</th>{''.join(cells)}</tr>")
    css = f"""
body{{font-family:{font};font-size:{size}px;color:#222;background:#fff;padding:28px}}
h1{{font-size:{size + 9}px;color:{head_bg};margin:0 0 14px}}
table{{border-collapse:collapse;width:100%;table-layout:fixed}} th,td{{padding:7px 10px;text-align:center;border:0}}
tr.hd th{{background:{head_bg};color:#fff;font-weight:bold;text-transform:{rng.choice(("uppercase", "none"))}}}
tr:nth-child(even) td,tr:nth-child(even) th{{background:{stripe}}} tr{{border-bottom:1px solid #ddd}}
tr:not(.hd) th{{font-weight:normal;white-space:nowrap;text-align:left;color:#444}} tr.hd th:first-child{{width:{9 if not week.clock.h12 else 12}em}}
tr.band td,tr.band th{{background:#fff3cd;color:#8a6d3b;font-weight:bold}} tr.band td{{letter-spacing:{0.2 if spaced_chars else 0.6}em}}
small{{color:#666}}
"""
    body = f"<h1>{_e(week.title)}</h1><table>{''.join(rows)}</table>"
    return Page("zebra", lang, _doc(css, body, lang), rng.choice((1000, 1200, 1280)), rng.choice((1, 1.5, 2)),
                truth_of(week, periods=False), {"spaced_chars": spaced_chars, "h12": week.clock.h12})  # fmt: skip


def records(rng: random.Random) -> Page:
    lang = rng.choice(LANGS)
    teacher_owner = rng.random() < 0.2
    week = plan_grid(rng, lang, teacher_owner=teacher_owner, clock=pick_clock(rng, lang))
    breaks = rng.random() < 0.35
    merged_days = rng.random() < 0.3  # the day printed once, merged down its rows
    headers = RECORD_HEADERS[lang]
    names = day_names(lang, rng.choice(("wide", "abbreviated")))
    font = rng.choice(FONTS)
    size = rng.choice((12, 13, 14))
    head_bg = rng.choice(("#343a40", "#e9ecef", "#0d6efd", "#198754"))
    printed = [e for e in week.events if breaks or e.kind == "lesson"]
    by_day = {d: [e for e in week.of_day(d) if e in printed] for d in week.days}
    who_header = headers[6] if teacher_owner else headers[4]
    rows = ["<tr>" + "".join(f"<th>{_e(h)}</th>" for h in (*headers[:4], who_header, headers[5])) + "</tr>"]
    for day, events in by_day.items():
        for k, e in enumerate(events):
            day_cell = f"<td>{_e(names[DAYS.index(day)])}</td>"
            if merged_days:
                day_cell = (
                    f"<td rowspan={len(events)} class=md>{_e(names[DAYS.index(day)])}</td>" if k == 0 else ""
                )
            cells = (
                week.clock.at(e.start),
                week.clock.at(e.end),
                e.subject,
                e.teacher or e.group or "",
                e.room or "",
            )
            rows.append(f"<tr class={'brk' if e.kind != 'lesson' else ''}>{day_cell}"
                        + "".join(f"<td>{_e(x)}</td>" for x in cells) + "</tr>")  # fmt: skip
    css = f"""
body{{font-family:{font};font-size:{size}px;color:#212529;background:#fff;padding:24px 32px}}
h1{{font-size:{size + 8}px;margin:0 0 14px}} .ctl{{display:flex;justify-content:space-between;margin-bottom:10px;color:#555}}
.ctl input{{border:1px solid #ced4da;border-radius:4px;width:180px;height:26px;margin-left:6px}}
table{{border-collapse:collapse;width:100%}} th{{background:{head_bg};color:{_text_on(head_bg)};text-align:left;padding:8px 10px}}
td{{padding:6px 10px;border-top:1px solid #dee2e6}} tr:nth-child(odd) td{{background:#f8f9fa}}
td.md{{background:#fff !important;font-weight:bold;vertical-align:top}} tr.brk td{{color:#888;font-style:italic}}
.info{{color:#6c757d;margin-top:10px}}
"""
    n = len(printed)
    body = (f"<h1>{_e(week.title)}</h1><div class=ctl><span>{rng.choice((50, 100))} ▾</span><span>{_e(UI[lang]['search'])}<input></span></div>"
            f"<table>{''.join(rows)}</table><div class=info>{_e(UI[lang]['shown'].format(n=n))}</div>")  # fmt: skip
    return Page("records", lang, _doc(css, body, lang), rng.choice((900, 1000, 1200)), rng.choice((1, 1.5, 2)),
                truth_of(week, printed, periods=False),
                {"breaks": breaks, "merged_days": merged_days, "teacher_owner": teacher_owner, "h12": week.clock.h12})  # fmt: skip


BUILDERS: dict[str, Callable[[random.Random], Page]] = {
    "portal": portal, "asc": asc, "untis": untis, "calendar": calendar, "dark": dark, "list": listing,
    "zebra": zebra, "records": records, "asc_print": asc_print,
}  # fmt: skip


def build(family: str, seed: int, index: int) -> Page:
    """The page for one document, pure: same (family, seed, index), same HTML and truth."""
    return BUILDERS[family](random.Random(f"web:{seed}:{index}:{family}"))


# --------------------------------------------------------------------------- the browser


@contextmanager
def browser() -> Iterator[Any]:
    """One headless Chromium (Debian's, offline) for a whole batch."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import OFFLINE, chromium

    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=chromium(), headless=True,
                                   args=["--no-sandbox", "--disable-dev-shm-usage", OFFLINE])  # fmt: skip
        try:
            yield chrome
        finally:
            chrome.close()


def screenshot(chrome: Any, page: Page) -> tuple[bytes, str]:
    """The full-page PNG and the page's visible text (``innerText``)."""
    context = chrome.new_context(
        viewport={"width": page.width, "height": 600}, device_scale_factor=page.scale
    )
    try:
        tab = context.new_page()
        tab.set_content(page.html, wait_until="load")
        return tab.screenshot(full_page=True, animations="disabled"), tab.inner_text("body")
    finally:
        context.close()


# Paper a browser prints on: (width, height) in CSS pixels at 96 per inch, and the margin. None: the
# page's own width and height on one sheet, as a "save as PDF" with a custom paper size gives.
PAPERS: dict[str, tuple[float, float, float] | None] = {
    "a4-landscape": (297 / 25.4 * 96, 210 / 25.4 * 96, 10 / 25.4 * 96),
    "letter": (8.5 * 96, 11 * 96, 0.4 * 96),
    "own": None,
}


def print_pdf(chrome: Any, page: Page, paper: str) -> bytes:
    """The page printed to PDF by Chromium: laid out at its own width (the print is scaled to fit the
    sheet's width, Chromium's scale ranging 0.1 to 2), backgrounds printed, long pages flowing on."""
    context = chrome.new_context(viewport={"width": page.width, "height": 600}, device_scale_factor=1)
    try:
        tab = context.new_page()
        tab.set_content(page.html, wait_until="load")
        sheet = PAPERS[paper]
        if sheet is None:
            tab.emulate_media(media="print")
            height = tab.evaluate("document.documentElement.scrollHeight")
            return tab.pdf(width=f"{page.width}px", height=f"{height + 2}px", print_background=True,
                           margin={"top": "0", "bottom": "0", "left": "0", "right": "0"})  # fmt: skip
        width, height, margin = sheet
        scale = max(0.1, min(2.0, (width - 2 * margin) / page.width))
        return tab.pdf(width=f"{width:.1f}px", height=f"{height:.1f}px", print_background=True, scale=scale,
                       margin={side: f"{margin:.1f}px" for side in ("top", "bottom", "left", "right")})  # fmt: skip
    finally:
        context.close()


def pick_paper(family: str, name: str) -> str:
    """The paper one document is printed on: a phone screen keeps its own size, a page goes on A4 or Letter."""
    if family == "dark":
        return "own"
    return random.Random(f"paper:{name}").choice(("a4-landscape", "a4-landscape", "letter", "own"))


def _encode(png: bytes, fmt: str, name: str) -> bytes:
    if fmt == "png":
        return png
    from PIL import Image

    from . import degrade

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return getattr(degrade, f"degrade_{fmt}")(image, random.Random(name))


def generate(
    out_dir: Path,
    *,
    count: int,
    seed: int = 0,
    formats: Sequence[str] = FORMATS,
    families: Sequence[str] = FAMILIES,
) -> list[tuple[Path, Path]]:
    """Write ``count`` documents; document ``i`` is family ``i % len(families)`` in format ``i % len(formats)``."""
    bad = (set(formats) - set(FORMATS)) | (set(families) - set(FAMILIES) - set(EXTRA_FAMILIES))
    if bad:
        raise ValueError(f"unknown format(s) or families: {', '.join(sorted(bad))}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with browser() as chrome, (out_dir / "manifest.jsonl").open("w") as manifest:
        for index in range(count):
            family, fmt = families[index % len(families)], formats[index % len(formats)]
            name = f"web{seed}_{index:03d}_{family}_{fmt}"
            page = build(family, seed, index)
            extra: dict[str, Any] = {}
            if fmt == "pdf":
                extra["paper"] = pick_paper(family, name)
                content = print_pdf(chrome, page, extra["paper"])
            else:
                png, _ = screenshot(chrome, page)
                content = _encode(png, fmt, name)
            path = out_dir / f"{name}.{EXTENSIONS.get(fmt, fmt)}"
            path.write_bytes(content)
            pages = _pdf_pages(content) if fmt == "pdf" else 1
            source = Source(filename=path.name, media_type=MEDIA_TYPES[fmt], pages=pages,
                            sha256=hashlib.sha256(content).hexdigest())  # fmt: skip
            truth = page.truth.model_copy(update={"source": source})
            truth_path = out_dir / f"{name}.json"
            truth_path.write_text(json.dumps(truth.to_json_dict(), indent=2, ensure_ascii=False) + "\n")
            features = {
                "width": page.width,
                "scale": page.scale,
                "entries": len(truth.entries),
                **({"pages": pages} if fmt == "pdf" else {}),
                **extra,
                **page.features,
            }
            manifest.write(json.dumps({"name": name, "family": family, "format": fmt, "language": page.lang,
                                       "features": features}, ensure_ascii=False) + "\n")  # fmt: skip
            written.append((path, truth_path))
    return written


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m tests.corpusgen.web", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write documents and truth into")
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", default="png", help=f"comma-separated, of {', '.join(FORMATS)}")
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma-separated, of %(default)s (or {', '.join(EXTRA_FAMILIES)})")  # fmt: skip
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    split = lambda text: [x.strip() for x in text.split(",") if x.strip()]  # noqa: E731
    try:
        written = generate(args.out, count=args.count, seed=args.seed, formats=split(args.formats),
                           families=split(args.families))  # fmt: skip
    except ValueError as exc:
        parser.error(str(exc))
    print(f"wrote {len(written)} documents with truth to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
