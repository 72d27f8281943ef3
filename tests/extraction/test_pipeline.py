"""The extraction path on corpus documents, every mode, and errors a user can act on."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.extraction.base import Document, Limits, StageResult
from timetable_platform.extraction.errors import EmptyDocument, ExtractionError, NoTimetableFound, TooLarge
from timetable_platform.extraction.pipeline import extract, extract_path, load_document


def _slots(entries: list[dict]) -> set[tuple[str, str | None, str | None, str]]:
    return {
        (e["day"], e.get("start"), e.get("end"), " ".join(e["subject"].casefold().split())) for e in entries
    }


@pytest.mark.parametrize("name", ["l1_pdf_001.pdf", "l2_docx_001.docx", "l5_xlsx_001.xlsx", "real/ly_2.pdf"])
def test_corpus_document_matches_truth(corpus_dir: Path, name: str) -> None:
    path = corpus_dir / name
    truth = json.loads(path.with_suffix(".json").read_text())
    result = extract_path(path, mode="document_ai")
    got = _slots([e.model_dump() for e in result.timetable.entries])
    want = _slots(truth["entries"])
    hits = len(got & want)
    assert hits / len(want) >= 0.95 and hits / len(got) >= 0.95, sorted(want - got)[:5]
    tt = result.timetable
    assert tt.owner is not None and tt.owner.name == truth["owner"]["name"]
    assert tt.source is not None and tt.source.sha256 == truth["source"]["sha256"]
    assert result.layout_stage.backend.startswith("embedded:")


def test_pdf_source_has_pages_and_media_type(corpus_dir: Path) -> None:
    result = extract_path(corpus_dir / "l4_pdf_002.pdf", mode="document_ai")
    assert result.timetable.source is not None
    assert (result.timetable.source.media_type, result.timetable.source.pages) == ("application/pdf", 1)
    assert result.mode == "document_ai" and result.interpreter_stage is None


class _FixedLayout:
    name = "fixed-layout"

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries

    def extract(self, document: Document, limits: Limits) -> StageResult:
        return StageResult(timetable=Timetable(entries=list(self.entries)), backend=self.name, seconds=0.0)


class _FixedInterpreter:
    name = "fixed-interpreter"

    def __init__(self) -> None:
        self.calls = 0

    def extract(self, document: Document, limits: Limits, context: StageResult | None = None) -> StageResult:
        self.calls += 1
        entry = Entry(day="MON", start="09:00", end="10:00", subject="Maths", confidence=0.9)
        return StageResult(timetable=Timetable(entries=[entry]), backend=self.name, seconds=0.0)


def _blank_pdf(pages: int) -> bytes:
    import pypdfium2

    pdf = pypdfium2.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(595, 842)
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


DOC = Document(content=_blank_pdf(1), media_type="application/pdf", filename="t.pdf")


def test_the_page_limit_is_enforced_before_any_stage_whatever_the_backends() -> None:
    """The CLI and the tests call ``extract`` with any backend; Document AI and Claude bill per page."""

    class CountingLayout(_FixedLayout):
        calls = 0

        def extract(self, document: Document, limits: Limits) -> StageResult:
            self.calls += 1
            return super().extract(document, limits)

    layout = CountingLayout([Entry(day="MON", start="09:00", end="10:00", subject="Maths")])
    interpreter = _FixedInterpreter()
    two_pages = Document(content=_blank_pdf(2), media_type="application/pdf", filename="two.pdf")
    with pytest.raises(TooLarge, match="2 pages; the limit is 1"):
        extract(two_pages, mode="hybrid", limits=Limits(max_pages=1), layout_extractor=layout, interpreter=interpreter)
    assert layout.calls == 0 and interpreter.calls == 0
    allowed = extract(two_pages, mode="hybrid", limits=Limits(max_pages=2), layout_extractor=layout, interpreter=interpreter)
    assert allowed.timetable.entries and interpreter.calls == 1
    assert layout.calls == 1


def test_fallback_runs_interpreter_only_when_layout_is_unsure() -> None:
    sure = _FixedLayout([Entry(day="MON", start="09:00", end="10:00", subject="Maths", confidence=0.99)])
    interpreter = _FixedInterpreter()
    result = extract(DOC, mode="fallback", layout_extractor=sure, interpreter=interpreter)
    assert interpreter.calls == 0 and result.interpreter_stage is None

    unsure = _FixedLayout([Entry(day="MON", start="09:00", end="10:00", subject="Maths", confidence=0.3)])
    result = extract(DOC, mode="fallback", layout_extractor=unsure, interpreter=interpreter)
    assert interpreter.calls == 1 and result.backends == ["fixed-layout", "fixed-interpreter"]


def test_hybrid_runs_both_and_document_ai_only_the_layout_stage() -> None:
    layout = _FixedLayout([Entry(day="MON", start="09:00", end="10:00", subject="Maths", confidence=1.0)])
    interpreter = _FixedInterpreter()
    result = extract(DOC, mode="hybrid", layout_extractor=layout, interpreter=interpreter)
    assert interpreter.calls == 1 and result.interpreter_stage is not None
    assert [e.subject for e in result.timetable.entries] == ["Maths"]
    extract(DOC, mode="document_ai", layout_extractor=layout, interpreter=interpreter)
    assert interpreter.calls == 1


def test_no_entries_raises_no_timetable_found_with_reason() -> None:
    empty = _FixedLayout([])
    with pytest.raises(NoTimetableFound) as info:
        extract(DOC, mode="document_ai", layout_extractor=empty)
    assert "no timetable found" in str(info.value)


def test_load_document_limits_and_errors(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.7\n" + b"0" * 2000)
    with pytest.raises(TooLarge):
        load_document(big, limits=Limits(max_bytes=1000))
    with pytest.raises(TooLarge):
        load_document(b"x" * 2000, limits=Limits(max_bytes=1000))
    with pytest.raises(ExtractionError, match="not found"):
        load_document(tmp_path / "missing.pdf", limits=Limits())
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(EmptyDocument):
        load_document(empty, limits=Limits())
    doc = load_document(
        b"Day,Start,End,Subject\nMonday,9:00,10:00,Maths\n", filename="t.csv", limits=Limits()
    )
    assert doc.media_type.startswith("text/")
    result = extract(doc, mode="document_ai")
    assert [(e.day, e.start, e.end, e.subject) for e in result.timetable.entries] == [
        ("MON", "09:00", "10:00", "Maths")
    ]


class _CrashingInterpreter:
    name = "crashing"

    def extract(self, document: Document, limits: Limits, context: StageResult | None = None) -> StageResult:
        raise RuntimeError("boom")


def test_a_crashing_second_reader_leaves_the_layout_answer_and_a_warning() -> None:
    layout = _FixedLayout([Entry(day="MON", start="09:00", end="10:00", subject="Maths", confidence=1.0)])
    result = extract(DOC, mode="hybrid", layout_extractor=layout, interpreter=_CrashingInterpreter())
    assert [e.subject for e in result.timetable.entries] == ["Maths"]
    assert any("crashing failed" in w for w in result.timetable.warnings)


_SMALL_GRID = [["Time", "Monday", "Tuesday"], ["9:00-10:00", "Maths", "Art"], ["10:00-11:00", "Music", "Science"]]


def _word_grid_layout(rows: list[list[str]] = _SMALL_GRID) -> object:
    """A page of words set out as a grid, with no table found in it."""
    from timetable_platform.domain.layout import BBox, Layout, Line, Page, Word

    words, lines = [], []
    for r, row in enumerate(rows):
        line_words = [Word(text, BBox(20 + 150 * c, 40 + 30 * r, 110 + 150 * c, 52 + 30 * r)) for c, text in enumerate(row)]
        words += line_words
        lines.append(Line(line_words, BBox(20, 40 + 30 * r, 110 + 150 * (len(row) - 1), 52 + 30 * r)))
    return Layout(pages=[Page(1, 150 * len(rows[0]) + 100, 300, words=words, lines=lines)], media_type="application/pdf", reader="test")


def test_document_ai_mode_reads_the_word_stream_when_no_table_reading_finds_a_timetable() -> None:
    from timetable_platform.extraction.pipeline import reconcile

    empty = StageResult(timetable=Timetable(entries=[]), backend="embedded:test", seconds=0.0, layout=_word_grid_layout())  # type: ignore[arg-type]
    timetable = reconcile(empty, None, mode="document_ai", filename="t.pdf", media_type="application/pdf", sha256="0" * 64)
    assert {(e.day, e.start, e.subject) for e in timetable.entries} == {
        ("MON", "09:00", "Maths"), ("MON", "10:00", "Music"), ("TUE", "09:00", "Art"), ("TUE", "10:00", "Science"),
    }
    assert all(e.confidence is not None and e.confidence < 0.9 for e in timetable.entries)  # a reading standing alone
    without_layout = StageResult(timetable=Timetable(entries=[]), backend="embedded:test", seconds=0.0)
    with pytest.raises(NoTimetableFound):
        reconcile(without_layout, None, mode="document_ai", filename="t.pdf", media_type="application/pdf", sha256="0" * 64)


def test_document_ai_mode_takes_the_word_stream_when_the_table_reading_lost_most_of_the_week() -> None:
    from timetable_platform.extraction.pipeline import reconcile

    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    subjects = ["Maths", "Art", "Music", "Science", "History"]
    rows = [["Time", *days], ["9:00-10:00", *subjects], ["10:00-11:00", *reversed(subjects)]]
    layout = _word_grid_layout(rows)
    kw = {"mode": "document_ai", "filename": "t.pdf", "media_type": "application/pdf", "sha256": "0" * 64}
    # A table reading that kept one block of ten gives way to the stream's reading of the same words.
    one = [Entry(day="MON", start="09:00", end="10:00", subject="Maths", confidence=0.9)]
    lost = StageResult(timetable=Timetable(entries=one), backend="embedded:test", seconds=0.0, layout=layout)  # type: ignore[arg-type]
    timetable = reconcile(lost, None, **kw)  # type: ignore[arg-type]
    assert len(timetable.entries) == 10
    assert ("WED", "10:00", "Music") in {(e.day, e.start, e.subject) for e in timetable.entries}
    # A table reading that places the week stands, even where the stream reads a name differently.
    week = [
        Entry(day=d[:3].upper(), start=start, end=end, subject=f"Lesson {i}", confidence=0.9)
        for i, d in enumerate(days)
        for start, end in (("09:00", "10:00"), ("10:00", "11:00"))
    ]
    whole = StageResult(timetable=Timetable(entries=week), backend="embedded:test", seconds=0.0, layout=layout)  # type: ignore[arg-type]
    kept = reconcile(whole, None, **kw)  # type: ignore[arg-type]
    assert {e.subject for e in kept.entries} == {f"Lesson {i}" for i in range(5)}
