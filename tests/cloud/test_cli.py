"""`timetable extract` with the cloud backends switched on by TIMETABLE_* variables (fakes behind them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cloud.conftest import Generated, claude_overrides, documentai_overrides
from timetable_platform.cli import main
from timetable_platform.fakes.anthropic_server import FakeAnthropic
from timetable_platform.fakes.documentai_server import FakeDocumentAI


def _environment(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"TIMETABLE_{name.upper()}", value)


def test_extract_uses_the_backends_the_settings_choose(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_documentai: FakeDocumentAI,
    fake_anthropic: FakeAnthropic,
    grid_pdf: Generated,
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    _environment(monkeypatch, {"layout_backend": "documentai", "interpreter_backend": "claude"})
    _environment(monkeypatch, documentai_overrides(fake_documentai))
    _environment(monkeypatch, claude_overrides(fake_anthropic))

    assert main(["extract", str(grid_pdf.path), "--mode", "hybrid"]) == 0

    printed = json.loads(capsys.readouterr().out)
    assert len(fake_documentai.requests) == 1 and len(fake_anthropic.requests) == 1
    assert {(e["day"], e["start"], e["subject"]) for e in printed["entries"]} == {
        (e.day, e.start, e.subject) for e in grid_pdf.truth.entries
    }


def test_unconfigured_cloud_backend_is_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], grid_pdf: Generated
) -> None:
    monkeypatch.setenv("TIMETABLE_LAYOUT_BACKEND", "documentai")
    for name in ("PROJECT", "PROCESSOR_ID"):
        monkeypatch.delenv(f"TIMETABLE_DOCUMENTAI_{name}", raising=False)

    assert main(["extract", str(grid_pdf.path), "--mode", "document_ai"]) == 1

    captured = capsys.readouterr()
    assert "TIMETABLE_DOCUMENTAI_PROJECT" in captured.err and "Traceback" not in captured.err


def _two_page_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    for day in ("Monday 09:00 Maths", "Tuesday 09:00 Art"):
        pdf.drawString(72, 720, day)
        pdf.showPage()
    pdf.save()
    return path


def test_the_page_limit_holds_before_a_paid_backend_is_called(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_documentai: FakeDocumentAI,
    tmp_path: Path,
) -> None:
    _environment(monkeypatch, {"layout_backend": "documentai"})
    _environment(monkeypatch, documentai_overrides(fake_documentai))
    path = _two_page_pdf(tmp_path / "two.pdf")

    assert main(["extract", str(path), "--mode", "document_ai", "--max-pages", "1"]) == 1

    err = capsys.readouterr().err
    assert f"{path}: The document has 2 pages; the limit is 1." in err and "Traceback" not in err
    assert fake_documentai.requests == []
