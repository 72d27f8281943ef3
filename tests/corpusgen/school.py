"""School-wide documents with exact truth per owner, and deliberate conflicts.

``make_school(seed, n_classes)`` plans a week for a whole school: every class has a lesson in every
period, each with a teacher free at that time and the class's home room, except for the planted
conflicts (``School.conflicts``):

- a teacher in two places at once (two classes' pages name the same teacher in one period),
- a room double-booked (a class's page names another class's room in one period),
- a class with two lessons in one slot (a teacher's sheet claims a class that its own page shows
  with another teacher).

It prints as timetabling software does: a PDF with one page per class (``render_class_pdf``), a
workbook with one sheet per teacher (``render_teacher_xlsx``), HTML pages in the style of FET's
class and teacher exports (``render_fet_html``). Each ``Timetable`` in ``School.truth_*`` is exactly
what its page prints.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from html import escape

from timetable_platform.domain.model import DAYS, Entry, Owner, Timetable

from .layouts import Grid

WEEKDAYS = DAYS[:5]
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
# (start, end, label): six periods and a morning break.
PERIODS: tuple[tuple[str, str, str | None], ...] = (
    ("08:00", "08:45", "1"),
    ("08:50", "09:35", "2"),
    ("09:40", "10:25", "3"),
    ("10:25", "10:45", None),  # break
    ("10:45", "11:30", "4"),
    ("11:35", "12:20", "5"),
    ("12:25", "13:10", "6"),
)
SUBJECTS = ("Mathematics", "English", "Biology", "History", "Geography", "Physics", "Chemistry", "Art",
            "Music", "French", "German", "Computing", "Religious Education", "Drama")  # fmt: skip
FIRST = ("Anna", "Ben", "Clara", "David", "Elena", "Frank", "Greta", "Hugo", "Ines", "Jonas", "Karin", "Lukas",
         "Maria", "Nils", "Olga", "Paul", "Rosa", "Stefan", "Tanja", "Uwe", "Vera", "Walter", "Yvonne", "Zoe")  # fmt: skip
LAST = ("Berg", "Carter", "Dahl", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen", "Keller", "Lopez",
        "Moreau", "Novak", "Olsen", "Petrov", "Quinn", "Rossi", "Schmidt", "Torres", "Ulrich", "Vogel",
        "Weber", "Young", "Zimmer")  # fmt: skip
BREAK_WORD = "Break"
EXTRA_ROOM = "Studio"


@dataclass(frozen=True)
class Lesson:
    day: str
    period: int  # index into PERIODS
    group: str
    subject: str
    teacher: str
    room: str


@dataclass(frozen=True)
class Conflict:
    kind: str  # teacher | room | class
    name: str
    day: str
    start: str


@dataclass
class School:
    classes: list[str]
    teachers: list[str]
    lessons: list[Lesson]  # as the class pages print them
    sheet_extra: list[Lesson]  # lessons only a teacher's sheet prints (the planted class clash)
    conflicts: set[Conflict] = field(default_factory=set)

    def class_truth(self) -> list[Timetable]:
        out = []
        for group in self.classes:
            entries = []
            for d, day in enumerate(WEEKDAYS):
                for p, (start, end, label) in enumerate(PERIODS):
                    if label is None:
                        entries.append(Entry(day=day, start=start, end=end, kind="break", subject=BREAK_WORD))
                        continue
                    lesson = next(
                        x for x in self.lessons if x.group == group and x.day == day and x.period == p
                    )
                    entries.append(Entry(day=day, start=start, end=end, period=label, subject=lesson.subject,
                                         teacher=lesson.teacher, room=lesson.room))  # fmt: skip
                del d
            out.append(
                Timetable(title=f"Class {group}", owner=Owner(kind="class", name=group), entries=entries)
            )
        return out

    def teacher_lessons(self, teacher: str) -> dict[tuple[str, int], Lesson]:
        """What a teacher's sheet prints: one lesson a period (the first, when the plan clashes)."""
        printed: dict[tuple[str, int], Lesson] = {}
        for lesson in [*self.lessons, *self.sheet_extra]:
            if lesson.teacher == teacher:
                printed.setdefault((lesson.day, lesson.period), lesson)
        return printed

    def teacher_truth(self) -> list[Timetable]:
        out = []
        for teacher in self.teachers:
            printed = self.teacher_lessons(teacher)
            if not printed:
                continue
            entries = []
            for day in WEEKDAYS:
                for p, (start, end, label) in enumerate(PERIODS):
                    lesson = printed.get((day, p))
                    if lesson is not None:
                        entries.append(Entry(day=day, start=start, end=end, period=label, subject=lesson.subject,
                                             room=lesson.room, group=lesson.group))  # fmt: skip
            out.append(Timetable(title=teacher, owner=Owner(kind="teacher", name=teacher), entries=entries))
        return out


def make_school(seed: int = 15, n_classes: int = 30) -> School:
    """A school of ``n_classes`` (at least 5: the planted conflicts need five classes)."""
    rng = random.Random(seed)
    grades = range(5, 11)
    classes = [f"{g}{letter}" for g in grades for letter in "ABCDE"][:n_classes]
    pairs = [f"{f} {last}" for f in FIRST for last in LAST]
    teachers = sorted(rng.sample(pairs, n_classes + max(4, n_classes // 3)))
    subject_of = {t: SUBJECTS[i % len(SUBJECTS)] for i, t in enumerate(teachers)}
    home = {group: f"R{100 + i + 1}" for i, group in enumerate(classes)}
    lessons: list[Lesson] = []
    for day in WEEKDAYS:
        for p, (_, _, label) in enumerate(PERIODS):
            if label is None:
                continue
            free = list(teachers)
            rng.shuffle(free)
            for group in classes:
                teacher = free.pop()
                lessons.append(Lesson(day, p, group, subject_of[teacher], teacher, home[group]))
    school = School(classes=classes, teachers=teachers, lessons=lessons, sheet_extra=[])
    _plant_conflicts(school, rng, home)
    return school


def _replace(school: School, old: Lesson, new: Lesson) -> None:
    school.lessons[school.lessons.index(old)] = new


def _at(school: School, group: str, day: str, period: int) -> Lesson:
    return next(x for x in school.lessons if (x.group, x.day, x.period) == (group, day, period))


def _plant_conflicts(school: School, rng: random.Random, home: dict[str, str]) -> None:
    a, b, c, d, e = rng.sample(school.classes, 5)
    # 1. A teacher in two places: class b's lesson on TUE period 2 is given class a's teacher.
    first = _at(school, a, "TUE", 1)
    clash = _at(school, b, "TUE", 1)
    _replace(school, clash, Lesson("TUE", 1, b, first.subject, first.teacher, clash.room))
    school.conflicts.add(Conflict("teacher", first.teacher, "TUE", PERIODS[1][0]))
    # 2. A room double-booked: class d is sent to class c's room on WED period 5.
    there = _at(school, c, "WED", 4)
    moved = _at(school, d, "WED", 4)
    _replace(school, moved, Lesson("WED", 4, d, moved.subject, moved.teacher, there.room))
    school.conflicts.add(Conflict("room", there.room, "WED", PERIODS[4][0]))
    # 3. A class with two lessons in one slot: a teacher free on THU period 1 claims class e in the Studio.
    busy = {x.teacher for x in school.lessons if x.day == "THU" and x.period == 0}
    idle = sorted(t for t in school.teachers if t not in busy)
    teacher = rng.choice(idle)
    school.sheet_extra.append(Lesson("THU", 0, e, "Drama", teacher, EXTRA_ROOM))
    school.conflicts.add(Conflict("class", e, "THU", PERIODS[0][0]))
    del home


# --------------------------------------------------------------------------- printing


def _grid(cells_of: dict[tuple[str, int], list[str]], *, breaks: bool) -> Grid:
    rows: list[list[list[str] | None]] = [[["Time"], *[[name] for name in DAY_NAMES]]]
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for p, (start, end, label) in enumerate(PERIODS):
        if label is None:
            if not breaks:
                continue
            rows.append([[f"{start}-{end}"], [BREAK_WORD], None, None, None, None])
            spans[(len(rows) - 1, 1)] = (1, len(WEEKDAYS))
            continue
        row: list[list[str] | None] = [[label, f"{start}-{end}"]]
        for day in WEEKDAYS:
            row.append(cells_of.get((day, p), []))
        rows.append(row)
    return Grid(cells=rows, spans=spans)


def render_class_pdf(school: School) -> bytes:
    """A PDF with a page per class: 'Class 7B' over the week grid, the school's name on every page."""
    from reportlab import rl_config
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, SimpleDocTemplate, Table, TableStyle
    from reportlab.platypus import Paragraph as RLParagraph

    rl_config.invariant = 1
    buffer = io.BytesIO()
    page = landscape(A4)
    margin = 12 * mm
    pdf = SimpleDocTemplate(buffer, pagesize=page, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin, title="School timetable", author="corpusgen")  # fmt: skip
    styles = getSampleStyleSheet()
    cell_style = ParagraphStyle("cell", parent=styles["BodyText"], fontSize=8, leading=9.5)
    header_style = ParagraphStyle("head", parent=cell_style, fontName="Helvetica-Bold")
    width = page[0] - 2 * margin
    flow: list[object] = []
    for index, group in enumerate(school.classes):
        if index:
            flow.append(PageBreak())
        flow.append(RLParagraph("Riverside Academy 2026/27", styles["Normal"]))
        flow.append(RLParagraph(escape(f"Class {group}"), styles["Title"]))
        cells = {
            (x.day, x.period): [x.subject, x.teacher, x.room] for x in school.lessons if x.group == group
        }
        block = _grid(cells, breaks=True)
        data = []
        for r, row in enumerate(block.cells):
            data.append([
                RLParagraph("<br/>".join(escape(x) for x in (lines or [])), header_style if r == 0 or c == 0 else cell_style)
                for c, lines in enumerate(row)
            ])  # fmt: skip
        first = 0.13 * width
        widths = [first] + [(width - first) / len(WEEKDAYS)] * len(WEEKDAYS)
        commands: list[tuple[object, ...]] = [("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                              ("GRID", (0, 0), (-1, -1), 0.6, colors.black)]  # fmt: skip
        for (r, c), (rs, cs) in block.spans.items():
            commands.append(("SPAN", (c, r), (c + cs - 1, r + rs - 1)))
        table = Table(data, colWidths=widths)
        table.setStyle(TableStyle(commands))
        flow.append(table)
    pdf.build(flow)
    return buffer.getvalue()


def render_class_docx(school: School) -> bytes:
    """A Word document with a section per class: the heading 'Class 7B', then its week grid."""
    from timetable_platform.domain.model import Timetable as _Timetable

    from .layouts import GeneratedDocument, Heading
    from .render import render_docx

    blocks: list[Heading | Grid] = []
    for group in school.classes:
        cells = {
            (x.day, x.period): [x.subject, x.teacher, x.room] for x in school.lessons if x.group == group
        }
        blocks += [Heading(f"Class {group}"), _grid(cells, breaks=True)]
    doc = GeneratedDocument(name="classes", fmt="docx", blocks=list(blocks), truth=_Timetable(), features={})
    return render_docx(doc)


def render_teacher_xlsx(school: School) -> bytes:
    """A workbook with one sheet per teacher, named after the teacher, the name printed above the grid."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    workbook = Workbook()
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    first = True
    for teacher in school.teachers:
        printed = school.teacher_lessons(teacher)
        if not printed:
            continue
        sheet = workbook.active if first else workbook.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = teacher[:31]
        sheet.cell(row=1, column=1, value=f"Teacher: {teacher}").font = Font(bold=True, size=14)
        grid = _grid({k: [x.group, x.subject, x.room] for k, x in printed.items()}, breaks=False)
        for r, row in enumerate(grid.cells):
            for c, lines in enumerate(row):
                cell = sheet.cell(row=3 + r, column=1 + c, value="\n".join(lines) if lines else None)
                cell.alignment = Alignment(wrap_text=True, vertical="center")
                cell.border = border
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_fet_html(school: School, *, teachers: bool) -> bytes:
    """FET's HTML export: every class (or teacher) as one table in one page, the name in a header row
    spanning the days, ``<br />`` between subject, teacher and room, a double period as ``rowspan``."""
    title = "Riverside Academy"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en">', "<head>",
        f"<title>{escape(title)}</title>",
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />',
        '<link rel="stylesheet" media="all" href="stylesheet.css" type="text/css" />',
        "<script>document.write('never run')</script>", "</head>", "<body>",
        f'<p>{escape(title)}</p>',
    ]  # fmt: skip
    owners = school.teachers if teachers else school.classes
    for index, owner in enumerate(owners):
        if teachers:
            cells = {k: [x.group, x.subject, x.room] for k, x in school.teacher_lessons(owner).items()}
            if not cells:
                continue
        else:
            cells = {
                (x.day, x.period): [x.subject, x.teacher, x.room] for x in school.lessons if x.group == owner
            }
        out.append(f'<table id="table_{index}" border="1">')
        out.append(f"<caption>{escape(title)}</caption>")
        out.append("<thead>")
        out.append(f'<tr><td rowspan="2"></td><th colspan="{len(WEEKDAYS)}">{escape(owner)}</th></tr>')
        out.append("<tr>" + "".join(f'<th class="xAxis">{d}</th>' for d in DAY_NAMES) + "</tr>")
        out.append("</thead><tbody>")
        for p, (start, end, label) in enumerate(PERIODS):
            if label is None:
                continue
            row = [f'<th class="yAxis">{start}-{end}</th>']
            for day in WEEKDAYS:
                lines = cells.get((day, p))
                if not lines:
                    row.append("<td>---</td>")
                    continue
                kinds = ("students", "subject", "room") if teachers else ("subject", "teacher", "room")
                spans = [f'<span class="{k}">' for k in kinds]
                row.append(
                    "<td>"
                    + "<br />".join(f"{s}{escape(x)}</span>" for s, x in zip(spans, lines, strict=True))
                    + "</td>"
                )
            out.append("<tr>" + "".join(row) + "</tr>")
        out.append("</tbody></table>")
        out.append('<p class="back"><a href="#top">back to the top</a></p>')
    out.append("</body></html>")
    return "\n".join(out).encode("utf-8")


def html_truth(truth: list[Timetable]) -> list[Timetable]:
    """FET pages print no break row: the truth without breaks."""
    return [t.model_copy(update={"entries": [e for e in t.entries if e.kind == "lesson"]}) for t in truth]
