"""interpret() must never raise on odd layouts: random tables and text give a timetable or a reason."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timetable_platform.domain.layout import Cell, Layout, Page, Table
from timetable_platform.reading.interpret import interpret

_WORDS = st.sampled_from(
    [
        "",
        "-",
        "Monday",
        "Mo",
        "Di",
        "Tue",
        "M\nO\nN",
        "8:30",
        "9.15-10.00",
        "1.15-3PM",
        "P1",
        "Week A",
        "Woche B",
        "Maths\nOKA\nR101",
        "Break",
        "B",
        "R",
        "Day",
        "Start",
        "End",
        "Subject",
        "12.11.2024",
        "3 3.15pm",
        "£ a l",
        "(Lecture)",
        "{ABC}",
        "[Lab - A-1]",
        "DC(L)/AG",
        "MPMC(L)/",
        "7B History",
        "Activity: Yoga",
        "Room 1",
        "S",
        "X",
        "Children's",
        "Batch-1",
    ]
)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    n_rows = draw(st.integers(1, 6))
    n_cols = draw(st.integers(1, 6))
    cells: list[Cell] = []
    taken: set[tuple[int, int]] = set()
    for r in range(n_rows):
        for c in range(n_cols):
            if (r, c) in taken:
                continue
            rowspan = draw(st.integers(1, n_rows - r))
            colspan = draw(st.integers(1, n_cols - c))
            slots = {(rr, cc) for rr in range(r, r + rowspan) for cc in range(c, c + colspan)}
            if slots & taken:
                rowspan = colspan = 1
                slots = {(r, c)}
            taken |= slots
            text = draw(st.one_of(_WORDS, st.text(max_size=12)))
            cells.append(Cell(row=r, col=c, text=text, rowspan=rowspan, colspan=colspan))
    return Table(n_rows=n_rows, n_cols=n_cols, cells=cells, caption=draw(st.none() | _WORDS))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(tables(), max_size=2), st.lists(_WORDS, max_size=6))
def test_interpret_never_raises(tables_: list[Table], paragraphs: list[str]) -> None:
    layout = Layout(
        pages=[Page(number=1, width=100, height=100, tables=tables_)],
        media_type="application/pdf",
        reader="test",
        paragraphs=paragraphs,
    )
    timetable = interpret(layout)
    assert timetable.entries or timetable.warnings
    for entry in timetable.entries:
        assert entry.subject.strip()
        assert entry.confidence is not None and 0.0 <= entry.confidence <= 1.0
