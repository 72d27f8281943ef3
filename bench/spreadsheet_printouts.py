"""Personal weekly timetables made in a spreadsheet and printed to PDF, each beside its ground truth.

A student's or teacher's own week is often a spreadsheet: days as columns, one-hour rows ('7h', '8:00',
'08h00', '7h-8h'), lessons as merged cells filled in colour and centred, a course painted across the
weekdays with its name printed once, coloured bands with no text (lunch, a day off), rooms after the
course name ('Statistics - INM200', 'Biologie BC01'), wrapped names that spill over a short row. The
workbook is built with openpyxl and printed by LibreOffice (``soffice --convert-to pdf``), as a user
would export it; ``--borderless`` prints it without cell borders (only the fills show the cells).

    .venv/bin/python bench/spreadsheet_printouts.py --out /tmp/sheets [--count 12] [--seed 1000] [--borderless]
    .venv/bin/python bench/accuracy.py --folder /tmp/sheets --per-file sheets --generated 0 --no-readme

The names, rooms and layouts are made up; no corpus document is copied.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, PatternFill, Side

DAYS = {
    "fr": ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"],
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
CODES = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
COURSES = [
    "Chimie organique", "Probabilités", "Mécanique I", "Informatique", "Thermodynamik", "Statistics",
    "Linear Algebra", "Histoire de l'art", "Biologie", "Signal Processing",
]  # fmt: skip
HALLS = ["BC01", "INM200", "CO2", "ELA1", "GR A3", "MA12", "SG1"]
LEISURE = [
    "Natation", "Course à pied", "Lecture", "Football", "Piano", "Courses",
    "Cuisine pour la semaine et ménage", "Randonnée en montagne",
]  # fmt: skip
BANDS = ["Deutschkurs", "Chorale", "Sport universitaire"]
COLOURS = ["FFC7CE", "C6EFCE", "FFEB9C", "BDD7EE", "D9D2E9", "F8CBAD"]
HOUR_STYLES = ["{h}h", "{h}:00", "{h:02d}h00", "{h}h-{n}h"]
FIRST, LAST = 7, 21


def build(path: Path, seed: int, *, borderless: bool) -> None:
    """Write ``path``.xlsx and ``path``.json: one made-up week."""
    r = random.Random(seed)
    days = DAYS[r.choice(list(DAYS))]
    hours = list(range(FIRST, LAST))
    workbook = Workbook()
    sheet = workbook.active
    for i, name in enumerate(days):
        sheet.cell(1, i + 2, name).alignment = Alignment(horizontal="center")
    style = r.choice(HOUR_STYLES)
    for j, h in enumerate(hours):
        sheet.cell(j + 2, 1, style.format(h=h, n=h + 1))
    sheet.column_dimensions["A"].width = 9
    for i in range(7):
        sheet.column_dimensions[chr(ord("B") + i)].width = 20
    if not borderless:
        thin = Side(style="thin", color="999999")
        for row in sheet.iter_rows(min_row=1, max_row=len(hours) + 1, min_col=1, max_col=8):
            for cell in row:
                cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    taken: set[tuple[int, int]] = set()
    entries: list[dict[str, Any]] = []

    # A course painted across the weekdays at one hour, its name printed once.
    band_hour, band = r.choice([17, 18, 19]), r.choice(BANDS)
    row = hours.index(band_hour) + 2
    sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=6)
    cell = sheet.cell(row, 2, band)
    cell.alignment = Alignment(horizontal="center", vertical="center")
    cell.fill = PatternFill("solid", fgColor="305496")
    for d in range(5):
        taken.add((d, band_hour))
        entries.append(_entry(d, band_hour, band_hour + 1, band, None))
    # Bands with no text: lunch across the week, a day off.
    for col in range(2, 9):
        sheet.cell(hours.index(12) + 2, col).fill = PatternFill("solid", fgColor="9BC2E6")
        taken.add((col - 2, 12))
    for j, h in enumerate(hours):
        sheet.cell(j + 2, 7).fill = PatternFill("solid", fgColor="7030A0")
        taken.add((5, h))

    for _ in range(14):
        d, length, h = r.choice([0, 1, 2, 3, 4, 6]), r.choice([1, 1, 2, 2, 3]), r.choice(hours[1:-3])
        span = range(h, h + length)
        if any((d, x) in taken for x in span):
            continue
        leisure = r.random() < 0.3
        subject = r.choice(LEISURE if leisure else COURSES)
        room = None if leisure else r.choice(HALLS)
        if room is None:
            text = subject
        elif " " in room:
            text = f"{subject} - {room}"
        else:
            text = r.choice([f"{subject} - {room}", f"{subject} {room}"])
        row = hours.index(h) + 2
        if length > 1:
            sheet.merge_cells(start_row=row, start_column=d + 2, end_row=row + length - 1, end_column=d + 2)
        cell = sheet.cell(row, d + 2, text)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if r.random() < 0.8:
            cell.fill = PatternFill("solid", fgColor=r.choice(COLOURS))
        taken.update((d, x) for x in span)
        entries.append(_entry(d, h, h + length, subject, room))
    sheet.page_setup.orientation = "landscape"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    workbook.save(path.with_suffix(".xlsx"))
    truth = {"schema_version": "1", "title": None, "owner": None, "entries": entries}
    path.with_suffix(".json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))


def _entry(day: int, start: int, end: int, subject: str, room: str | None) -> dict[str, Any]:
    return {
        "day": CODES[day], "start": f"{start:02d}:00", "end": f"{end:02d}:00", "subject": subject,
        "teacher": None, "room": room, "group": None, "week": None,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder to write NAME.pdf + NAME.json into")
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1000, help="first seed; one week per seed from it")
    parser.add_argument("--borderless", action="store_true", help="print without cell borders")
    args = parser.parse_args(argv)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        parser.error("LibreOffice (soffice) is needed to print the workbooks; `make install` installs it")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sheets-") as scratch:
        for k in range(args.count):
            name = f"sheet{args.seed + k}{'_borderless' if args.borderless else ''}"
            build(Path(scratch) / name, args.seed + k, borderless=args.borderless)
            (Path(scratch) / f"{name}.json").replace(args.out / f"{name}.json")
        workbooks = sorted(str(p) for p in Path(scratch).glob("*.xlsx"))
        subprocess.run(
            [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(args.out), *workbooks],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
    print(f"wrote {args.count} printed weeks with truth to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
