from __future__ import annotations

import pytest

from timetable_platform.domain.layout import BBox, Layout, Page, Word
from timetable_platform.extraction.base import Document, Interpreter, Limits, StageResult
from timetable_platform.extraction.errors import NoTimetableFound
from timetable_platform.extraction.textstream import TextStreamInterpreter

GRID_CSV = b"Time,Monday,Tuesday\n09:00-10:00,Maths,English\n10:00-11:00,Art,PE\n"


def test_is_an_interpreter_and_reads_the_document_when_alone() -> None:
    interpreter = TextStreamInterpreter()
    assert isinstance(interpreter, Interpreter) and interpreter.name == "textstream"
    document = Document(content=GRID_CSV, media_type="text/csv", filename="t.csv")
    result = interpreter.extract(document, Limits())
    got = {(e.day, e.start, e.end, e.subject) for e in result.timetable.entries}
    assert got == {
        ("MON", "09:00", "10:00", "Maths"),
        ("TUE", "09:00", "10:00", "English"),
        ("MON", "10:00", "11:00", "Art"),
        ("TUE", "10:00", "11:00", "PE"),
    }
    assert result.backend.startswith("textstream:") and result.layout is not None


def test_reuses_the_layout_stage_layout() -> None:
    words = [
        Word("Monday", BBox(100, 10, 130, 20)),
        Word("Tuesday", BBox(200, 10, 235, 20)),
        Word("9:00-9:45", BBox(10, 40, 55, 50)),
        Word("Latin", BBox(100, 40, 125, 50)),
    ]
    layout = Layout(pages=[Page(number=1, width=300, height=100, words=words)], media_type="application/pdf", reader="x")
    context = StageResult(timetable=None, backend="layout", seconds=0.0, layout=layout)  # type: ignore[arg-type]
    # Bytes that no reader could parse: the interpreter must not read them again.
    document = Document(content=b"not a pdf", media_type="application/pdf")
    result = TextStreamInterpreter().extract(document, Limits(), context)
    assert [(e.day, e.start, e.end, e.subject) for e in result.timetable.entries] == [("MON", "09:00", "09:45", "Latin")]


def test_nothing_found_is_a_clear_error() -> None:
    document = Document(content=b"just,some\nwords,here\n", media_type="text/csv", filename="x.csv")
    with pytest.raises(NoTimetableFound, match="no timetable found"):
        TextStreamInterpreter().extract(document, Limits())


def test_a_fault_in_the_reader_is_a_backend_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import timetable_platform.extraction.textstream as module
    from timetable_platform.extraction.errors import BackendError

    def broken(layout: Layout) -> None:
        raise ZeroDivisionError

    monkeypatch.setattr(module, "read_text_stream", broken)
    document = Document(content=GRID_CSV, media_type="text/csv", filename="t.csv")
    with pytest.raises(BackendError, match="text-stream reader failed"):
        TextStreamInterpreter().extract(document, Limits())
