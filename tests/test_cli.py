"""``timetable extract`` end to end on generated documents: outputs, naming, exit codes, errors."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import icalendar
import pytest

from tests.corpusgen.layouts import Recipe, make_document
from tests.corpusgen.render import write
from timetable_platform.cli import main
from timetable_platform.domain.validate import schema_errors

ROOT = Path(__file__).resolve().parent.parent


def _recipe(**changes: object) -> Recipe:
    base = Recipe(
        lang="en", style="grid", time_style="range", days_as_columns=True, owner_kind="class", weeks=(),
        saturday=False, doubles=False, merged_breaks=True, ruled=True, period_style="number",
        clock_variant="zero", separator=" - ", cell_layout="stacked", abbreviated_days=False,
    )  # fmt: skip
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def _make(folder: Path, name: str, fmt: str = "pdf", seed: int = 1, **changes: object) -> tuple[Path, dict]:
    doc = make_document(random.Random(seed), fmt, name, _recipe(**changes))
    document, truth = write(doc, folder)
    truth.unlink()  # keep the folder to documents only
    return document, doc.truth.to_json_dict()


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    folder = tmp_path_factory.mktemp("docs")
    return {
        "week_a": _make(folder, "week_a", "pdf", seed=1),
        "week_b": _make(folder, "week_b", "docx", seed=2),
        "sheet": _make(folder, "sheet", "xlsx", seed=3, days_as_columns=False),
    }


def test_single_file_prints_schema_valid_json(docs: dict, capsys: pytest.CaptureFixture[str]) -> None:
    path, truth = docs["week_a"]
    assert main(["extract", str(path), "--mode", "document_ai"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert schema_errors(data) == []
    assert data["source"]["filename"] == "week_a.pdf"
    assert data["source"]["media_type"] == "application/pdf"
    assert len(data["entries"]) == len(truth["entries"])


def test_output_file_csv_parses_and_matches_the_json(docs: dict, tmp_path: Path) -> None:
    path, truth = docs["week_b"]
    target = tmp_path / "nested" / "week_b.csv"
    assert main(["extract", str(path), "--format", "csv", "-o", str(target), "--mode", "document_ai"]) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == len(truth["entries"])
    assert {"day", "start", "end", "subject", "teacher", "room"} <= set(rows[0])
    assert {r["subject"] for r in rows} == {e["subject"] for e in truth["entries"]}
    assert not list(target.parent.glob("*.part"))


def test_ics_output_parses_with_one_weekly_event_per_entry(docs: dict, tmp_path: Path) -> None:
    path, truth = docs["sheet"]
    target = tmp_path / "sheet.ics"
    code = main(
        [
            "extract",
            str(path),
            "--format",
            "ics",
            "-o",
            str(target),
            "--week-start",
            "2025-09-01",
            "--mode",
            "document_ai",
        ]
    )
    assert code == 0
    events = list(icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT"))
    assert len(events) == len(truth["entries"])
    assert all(e["RRULE"]["FREQ"] == ["WEEKLY"] for e in events)
    first_monday = min(e.decoded("DTSTART") for e in events if e.decoded("DTSTART").weekday() == 0)
    assert first_monday.date().isoformat() == "2025-09-01"


def test_batch_names_outputs_after_stems_and_survives_a_corrupt_file(
    docs: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    out_dir = tmp_path / "out"
    paths = [str(docs["week_a"][0]), str(bad), str(docs["week_b"][0])]
    assert main(["extract", *paths, "--out-dir", str(out_dir), "--mode", "document_ai"]) == 1
    err = capsys.readouterr().err
    assert sorted(p.name for p in out_dir.iterdir()) == ["week_a.json", "week_b.json"]
    for name in ("week_a", "week_b"):
        data = json.loads((out_dir / f"{name}.json").read_text())
        assert schema_errors(data) == [] and len(data["entries"]) == len(docs[name][1]["entries"])
    error_lines = [line for line in err.splitlines() if line.startswith(f"{bad}: ")]
    assert len(error_lines) == 1
    assert "Traceback" not in err
    assert "3 documents: 2 succeeded, 1 failed" in err


def test_folder_is_searched_recursively_for_documents(
    docs: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    (folder / "term2").mkdir(parents=True)
    (folder / "week_a.pdf").write_bytes(docs["week_a"][0].read_bytes())
    (folder / "term2" / "sheet.xlsx").write_bytes(docs["sheet"][0].read_bytes())
    (folder / "week_a.json").write_text("{}")  # truth files and notes are not documents
    (folder / "notes.md").write_text("# notes")
    out_dir = tmp_path / "out"
    assert (
        main(["extract", str(folder), "--out-dir", str(out_dir), "--format", "csv", "--mode", "document_ai"])
        == 0
    )
    assert sorted(p.name for p in out_dir.iterdir()) == ["sheet.csv", "week_a.csv"]
    assert "2 documents: 2 succeeded, 0 failed" in capsys.readouterr().err


def test_same_stem_twice_does_not_overwrite(docs: dict, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    other = tmp_path / "other"
    other.mkdir()
    twin = other / "week_a.docx"
    twin.write_bytes(docs["week_b"][0].read_bytes())
    assert (
        main(
            ["extract", str(docs["week_a"][0]), str(twin), "--out-dir", str(out_dir), "--mode", "document_ai"]
        )
        == 0
    )
    assert sorted(p.name for p in out_dir.iterdir()) == ["week_a.docx.json", "week_a.json"]


def test_single_file_failure_exits_1_with_path_and_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "empty.pdf"
    bad.write_bytes(b"")
    assert main(["extract", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{bad}: ")


def test_limits_from_the_command_line_are_enforced(docs: dict, capsys: pytest.CaptureFixture[str]) -> None:
    path = docs["week_a"][0]
    assert main(["extract", str(path), "--max-bytes", "100"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: ") and "Traceback" not in err


def test_unexpected_exception_is_one_line_and_counts_as_failure(
    docs: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from timetable_platform.extraction import pipeline

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("reader fell over\nsecond line")

    monkeypatch.setattr(pipeline, "extract", explode)
    out_dir = tmp_path / "out"
    assert main(["extract", str(docs["week_a"][0]), "--out-dir", str(out_dir)]) == 1
    err = capsys.readouterr().err
    assert f"{docs['week_a'][0]}: unexpected error: RuntimeError: reader fell over" in err
    assert "second line" not in err and "Traceback" not in err
    assert not out_dir.exists() or not any(out_dir.iterdir())


@pytest.mark.parametrize(
    "argv",
    [
        ["extract", "{a}", "{b}"],  # several inputs without --out-dir
        ["extract", "{a}", "{b}", "-o", "{tmp}/x.json"],
        ["extract", "{tmp}/missing.pdf"],
        ["extract", "{tmp}/empty_folder", "--out-dir", "{tmp}/out"],
        ["extract", "{tmp}/empty_folder"],
        ["extract", "{a}", "-o", "{tmp}/x.json", "--out-dir", "{tmp}/out"],
        ["extract", "{a}", "--format", "pdf"],
        ["extract", "{a}", "--max-pages", "0"],
        ["extract", "{a}", "--format", "ics", "--tz", "Mars/Olympus"],
        ["extract", "{a}", "--week-start", "next monday"],
        ["extract"],
    ],
)
def test_usage_errors_exit_2(
    docs: dict, tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty_folder").mkdir()
    values = {"a": docs["week_a"][0], "b": docs["week_b"][0], "tmp": tmp_path}
    args = [part.format(**values) for part in argv]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "error" in captured.err and "Traceback" not in captured.err
    assert not (tmp_path / "x.json").exists()


def test_bad_setting_is_a_usage_error(
    docs: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMETABLE_MAX_PAGES", "many")
    assert main(["extract", str(docs["week_a"][0])]) == 2
    assert "TIMETABLE_MAX_PAGES" in capsys.readouterr().err


def test_console_script_writes_json_to_stdout(docs: dict) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "timetable_platform",
            "extract",
            str(docs["week_a"][0]),
            "--mode",
            "document_ai",
        ],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert schema_errors(json.loads(proc.stdout)) == []
