"""The second, independent reader: timetables from the page's WORDS and their positions, not its table cells.

Where ``reading.interpret`` walks the table structure the reader found, this reader ignores cells
altogether. It groups words into phrases, finds the day names that line up along a row or a column,
finds the time (or period) labels beside them, and places every other phrase by its position
between those anchors. So it keeps working when a reader gets the cell structure wrong (missed
rulings, merged cells read as one, OCR tables without lines), and it fails in other places (dense
text without spacing), which is what the merge needs from a second opinion.

A page can also be read as records (one line per block naming its day and time) or as a list (day
headings with one timed line per block); the reading that finds more wins.

- ``phrases``: phrases, day axes and the blocks every reader produces;
- ``grid``: the positional grid reader (``read_page``);
- ``records``: the records-page reader (``read_records_page``);
- ``listing``: the list reader (``list_lines``, ``_list_blocks``);
- ``document``: the whole document, ``read_text_stream``.
"""

from __future__ import annotations

from timetable_platform.reading.textstream.document import read_text_stream
from timetable_platform.reading.textstream.grid import infer_day_columns, read_page
from timetable_platform.reading.textstream.listing import list_lines
from timetable_platform.reading.textstream.phrases import (
    BASE_CONFIDENCE,
    PERIOD_LABEL,
    WEEK_MARK,
    DayAxis,
    Phrase,
    StreamBlock,
    build_phrases,
    find_day_axes,
)
from timetable_platform.reading.textstream.records import read_records_page

__all__ = [
    "BASE_CONFIDENCE",
    "PERIOD_LABEL",
    "WEEK_MARK",
    "DayAxis",
    "Phrase",
    "StreamBlock",
    "build_phrases",
    "find_day_axes",
    "infer_day_columns",
    "list_lines",
    "read_page",
    "read_records_page",
    "read_text_stream",
]
