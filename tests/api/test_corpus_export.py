"""``timetable corpus export``: reviewed timetables become NAME.ext + NAME.json pairs score.py reads;
contribution can be turned off per tenant; erased uploads leave the corpus."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.api.conftest import PDF_BYTES, PREFIX, Api
from timetable_platform.cli import main

SCORER = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "score.py"


def load_scorer() -> ModuleType:
    if not SCORER.is_file():
        pytest.skip("../shared/eval/score.py is not present")
    spec = importlib.util.spec_from_file_location("timetable_score", SCORER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reviewed_upload(api: Api, tenant: str, content: bytes = PDF_BYTES) -> str:
    key = api.new_key(tenant)
    upload_id = api.submit(key, content=content).json()["upload_id"]
    api.finish(upload_id)
    url = f"{PREFIX}/uploads/{upload_id}/timetable/entries"
    etag = api.client.get(url, headers=key).json()["etag"]
    etag = api.client.patch(f"{url}/e1", json={"subject": "Physics"}, headers={**key, "If-Match": etag}).headers["ETag"]
    assert api.client.post(f"{PREFIX}/uploads/{upload_id}/review", headers={**key, "If-Match": etag}).status_code == 200
    return upload_id


def export(api: Api, out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    monkeypatch.setenv("TIMETABLE_DATABASE_URL", api.settings.resolved_database_url)
    monkeypatch.setenv("TIMETABLE_DATA_DIR", str(api.settings.data_dir))
    capsys.readouterr()  # the API's request logs so far
    assert main(["corpus", "export", "--out", str(out), *extra]) == 0
    return capsys.readouterr().out


def test_export_writes_pairs_that_score_1_against_the_review_and_less_against_the_extraction(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scorer = load_scorer()
    upload_id = reviewed_upload(api, "school-a")
    out = tmp_path / "corpus"
    export(api, out, monkeypatch, capsys)
    truth_file = out / f"school-a_{upload_id}.json"
    assert (out / f"school-a_{upload_id}.pdf").read_bytes() == PDF_BYTES
    truth = json.loads(truth_file.read_text())
    assert [e["subject"] for e in truth["entries"]] == ["Maths", "Physics", "History"]
    extracted = api.client.get(
        f"{PREFIX}/uploads/{upload_id}/timetable", params={"version": "extracted"}, headers=api.new_key("school-a")
    ).json()
    pred_dir = tmp_path / "pred"
    pred_dir.mkdir()
    (pred_dir / truth_file.name).write_text(json.dumps(extracted))
    results = {truth_file.stem: scorer.score_doc(truth, json.loads((pred_dir / truth_file.name).read_text()))}
    assert scorer.summarise(results)["entry_f1"] < 1.0
    assert scorer.summarise({truth_file.stem: scorer.score_doc(truth, truth)})["entry_f1"] == 1.0
    # the directory is what score.py --truth-dir reads directly
    capsys.readouterr()
    assert scorer.main(["--truth-dir", str(out), "--pred-dir", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["entry_f1"] == 1.0


def test_contribution_off_and_erasure_take_cases_out(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    a = reviewed_upload(api, "school-a")
    b = reviewed_upload(api, "school-b", content=PDF_BYTES + b"%b\n")
    out = tmp_path / "corpus"
    export(api, out, monkeypatch, capsys)
    assert sorted(p.name for p in out.glob("*.json")) == sorted([f"school-a_{a}.json", f"school-b_{b}.json"])
    only_a = export(api, tmp_path / "a", monkeypatch, capsys, "--tenant", "school-a")
    assert b not in only_a and sorted(p.name for p in (tmp_path / "a").glob("*.json")) == [f"school-a_{a}.json"]
    assert export(api, tmp_path / "later", monkeypatch, capsys, "--since", "2999-01-01") == ""

    assert main(["corpus", "contribution", "--tenant", "school-b", "off"]) == 0
    export(api, out, monkeypatch, capsys)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [f"school-a_{a}.json", f"school-a_{a}.pdf"]

    assert api.client.delete(f"{PREFIX}/uploads/{a}", headers=api.new_key("school-a")).status_code == 204
    export(api, out, monkeypatch, capsys)
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []


def test_export_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "export", "--out", str(tmp_path), "--since", "yesterday"]) == 2
    assert "not a date" in capsys.readouterr().err
