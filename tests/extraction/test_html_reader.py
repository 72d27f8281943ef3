"""The HTML reader: spans, line breaks, several tables, nothing run or fetched, bounds."""

from __future__ import annotations

import pytest

from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import TooLarge
from timetable_platform.extraction.pipeline import extract, load_document
from timetable_platform.extraction.readers import read_layout
from timetable_platform.extraction.readers.html import MAX_DEPTH
from timetable_platform.extraction.sniff import HTML, sniff_media_type

PAGE = """<!DOCTYPE html><html><head><title>x</title>
<script>fetch('http://127.0.0.1:9/steal')</script><link rel="stylesheet" href="http://127.0.0.1:9/s.css">
<style>td{color:red}</style></head><body>
<h1>Class 7B</h1>
<table border="1">
<tr><th>Time</th><th>Monday</th><th>Tuesday</th></tr>
<tr><th>08:00-08:45</th><td rowspan="2">Maths<br/>Ms Lee<br>R1</td><td>Art<br />Mr Poe</td></tr>
<tr><th>08:50-09:35</th><td><p>History</p><p>Ms Kim</p></td></tr>
<tr><th>09:35-09:55</th><td colspan="2">Break</td></tr>
<tr><th>09:55-10:40</th><td>---</td><td>French<span> Ms Roy</span><table><tr><td>nested</td></tr></table></td></tr>
</table></body></html>"""


def _layout(content: str):  # type: ignore[no-untyped-def]
    data = content.encode()
    return read_layout(Document(content=data, media_type=sniff_media_type(data)), Limits())


def test_spans_line_breaks_and_placeholders_are_read_as_printed() -> None:
    layout = _layout(PAGE)
    (page,) = layout.pages
    (table,) = page.tables
    assert (table.n_rows, table.n_cols) == (5, 3)
    maths = table.cell_at(2, 1)
    assert maths is not None and maths.rowspan == 2 and maths.text.split("\n") == ["Maths", "Ms Lee", "R1"]
    assert table.cell_at(2, 2).text.split("\n") == ["History", "Ms Kim"]  # type: ignore[union-attr]
    brk = table.cell_at(3, 2)
    assert brk is not None and brk.colspan == 2 and brk.col == 1
    assert table.cell_at(4, 1).text == ""  # type: ignore[union-attr]  # '---': nothing on
    assert "nested" in table.cell_at(4, 2).text  # type: ignore[union-attr]  # a nested table's text stays in its cell
    assert table.caption == "Class 7B"
    assert "fetch" not in layout.text and "color" not in layout.text  # scripts and styles are not text


def test_an_html_timetable_extracts_like_any_other_document() -> None:
    data = PAGE.encode()
    result = extract(load_document(data, filename="7b.html", limits=Limits()), mode="document_ai")
    timetable = result.timetable
    assert result.timetables == []  # one timetable: version 1, as before
    assert timetable.owner is not None and timetable.owner.name == "7B"
    maths = next(e for e in timetable.entries if e.subject == "Maths")
    assert (maths.day, maths.start, maths.end) == ("MON", "08:00", "09:35")
    assert sum(1 for e in timetable.entries if e.kind == "break") == 2  # one per day


def test_deep_nesting_is_refused_and_empty_pages_say_so() -> None:
    deep = "<html><body>" + "<div>" * (MAX_DEPTH + 5) + "x" + "</div>" * (MAX_DEPTH + 5) + "</body></html>"
    with pytest.raises(TooLarge, match="nests"):
        _layout(deep)
    from timetable_platform.extraction.errors import EmptyDocument

    with pytest.raises(EmptyDocument):
        _layout("<html><body><script>x()</script></body></html>")


def test_html_is_sniffed_from_the_bytes_not_the_name() -> None:
    assert sniff_media_type(PAGE.encode(), "timetable.pdf") == HTML
