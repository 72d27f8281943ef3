"""``timetable extract`` on school-wide documents: version 2 on stdout, one version 1 file per owner in
``--out-dir`` (``NAME.OWNER.json``), each scorable with ../shared/eval/score.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpusgen.school import html_truth, make_school, render_fet_html
from timetable_platform.cli import main
from timetable_platform.domain.school import schema_errors_v2
from timetable_platform.domain.validate import schema_errors

SCORER = Path(__file__).resolve().parents[3] / "shared" / "eval" / "score.py"


@pytest.fixture(scope="module")
def school_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    school = make_school(seed=5, n_classes=5)
    folder = tmp_path_factory.mktemp("school")
    page = folder / "classes.html"
    page.write_bytes(render_fet_html(school, teachers=False))
    truth = {t.owner.name: t.to_json_dict() for t in html_truth(school.class_truth()) if t.owner}
    return page, truth


def test_out_dir_writes_one_version_1_file_per_owner(
    school_page: tuple[Path, dict[str, dict]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page, truth = school_page
    out = tmp_path / "out"
    assert main(["extract", str(page), "--out-dir", str(out), "-q"]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"classes.class-{name}.json" for name in truth)
    import importlib.util

    spec = importlib.util.spec_from_file_location("timetable_score", SCORER)
    assert spec and spec.loader
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    for name, expected in truth.items():
        data = json.loads((out / f"classes.class-{name}.json").read_text())
        assert data["schema_version"] == "1" and schema_errors(data) == []
        assert data["owner"] == {"kind": "class", "name": name}
        found = scorer.score_doc(expected, data)
        assert scorer.f1(found["tp"], found["pred"], found["truth"])[2] >= 0.98


def test_stdout_prints_schema_version_2_and_csv_holds_every_owner(
    school_page: tuple[Path, dict[str, dict]], capsys: pytest.CaptureFixture[str]
) -> None:
    page, truth = school_page
    assert main(["extract", str(page), "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == "2" and schema_errors_v2(data) == []
    assert [t["owner"]["name"] for t in data["timetables"]] == list(truth)
    assert main(["extract", str(page), "-q", "--format", "csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert {row.split(",")[8] for row in rows[1:]} == set(truth)  # the group column names each class
