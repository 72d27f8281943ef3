"""The week view in headless Chromium at desktop and phone widths: laid out on a time axis.

Screenshots are written next to the page (the test's tmp_path) for a person to look at; the layout
is checked from the DOM: each block is as tall as it lasts, overlapping blocks stand side by side,
an empty day between days with lessons is flagged, and a phone needs no sideways scrolling.
"""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import dump_dom, png_size, screenshot
from timetable_platform.domain.exports import to_html_week
from timetable_platform.domain.model import Entry, Timetable

# Computes every timed block's box once the page is laid out, and leaves them in the DOM as JSON.
MEASURE = """
<script>
window.addEventListener('load', () => {
  const blocks = [...document.querySelectorAll('.entry[data-start]')].map(e => {
    const r = e.getBoundingClientRect();
    return {subject: e.querySelector('.subject').textContent, day: e.closest('td').dataset.day,
            start: e.dataset.start, end: e.dataset.end,
            top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right};
  });
  const out = document.createElement('pre');
  out.id = 'measure';
  out.textContent = JSON.stringify({
    blocks, width: innerWidth, scrollWidth: document.documentElement.scrollWidth,
    flagged: [...document.querySelectorAll('td.flagged')].map(t => t.dataset.day),
    flagVisible: [...document.querySelectorAll('.flag')].some(f => f.getBoundingClientRect().height > 0),
  });
  document.body.appendChild(out);
});
</script>
"""

# ly_2.pdf's Monday afternoon: Swimming runs 13:15-15:00 across lunch and registration. Wednesday has
# no lessons although Tuesday and Thursday do.
WEEK = Timetable(
    title="4M",
    entries=[
        Entry(day="MON", start="09:00", end="10:00", subject="English"),
        Entry(day="MON", start="12:30", end="13:30", subject="Lunch", kind="break"),
        Entry(day="MON", start="13:15", end="15:00", subject="Swimming"),
        Entry(day="MON", start="13:30", end="13:40", subject="Register", kind="other"),
        Entry(day="MON", start="15:00", end="15:15", subject="Story"),
        Entry(day="TUE", start="09:00", end="10:00", subject="Maths"),
        Entry(day="TUE", start="10:00", end="10:15", subject="Break", kind="break"),
        Entry(day="THU", start="09:00", end="11:00", subject="Science", confidence=0.3),
        Entry(day="FRI", start="14:30", end="14:45", subject="Story"),
    ],
)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _measure(page: str, tmp_path: Path, *, width: int, height: int, name: str) -> dict[str, Any]:
    plain = tmp_path / f"{name}.html"
    plain.write_text(page)
    shot = screenshot(plain.as_uri(), tmp_path / f"{name}.png", width=width, height=height)
    assert png_size(shot) == (width, height)
    measured = tmp_path / f"{name}-measure.html"
    measured.write_text(page.replace("</body>", MEASURE + "</body>"))
    dom = dump_dom(measured.as_uri(), width=width, height=height, wait_ms=1000)
    found = re.search(r'<pre id="measure">(.*?)</pre>', dom, re.S)
    assert found, "the measuring script did not run"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _assert_time_axis(layout: dict[str, Any], timetable: Timetable) -> None:
    blocks = layout["blocks"]
    timed = [e for e in timetable.entries if e.start and e.end]
    assert len(blocks) == len(timed)
    # Heights are proportional to durations: one scale for every block (to within a pixel).
    scales = [(b["bottom"] - b["top"]) / (_minutes(b["end"]) - _minutes(b["start"])) for b in blocks]
    assert max(scales) - min(scales) < 1.0 / 15, scales
    scale = sum(scales) / len(scales)
    # Each day's blocks sit at their start times on that day's axis.
    for day in {b["day"] for b in blocks}:
        on_day = [b for b in blocks if b["day"] == day]
        first = min(on_day, key=lambda b: b["top"])
        for block in on_day:
            expected = (_minutes(block["start"]) - _minutes(first["start"])) * scale
            assert abs(block["top"] - first["top"] - expected) <= 1.5, (block, first)
    # Blocks whose times overlap stand side by side: their boxes do not intersect.
    for a, b in combinations(blocks, 2):
        if a["day"] == b["day"] and _minutes(a["start"]) < _minutes(b["end"]) and _minutes(b["start"]) < _minutes(a["end"]):
            assert a["right"] <= b["left"] + 0.5 or b["right"] <= a["left"] + 0.5, (a, b)


def test_desktop_week_is_laid_out_on_a_time_axis(tmp_path: Path) -> None:
    layout = _measure(to_html_week(WEEK), tmp_path, width=1280, height=1100, name="desktop")
    _assert_time_axis(layout, WEEK)
    blocks = {(b["day"], b["subject"]): b for b in layout["blocks"]}
    swimming, story = blocks[("MON", "Swimming")], blocks[("MON", "Story")]
    # 105 minutes against 15: drawn at full length, not as its first row.
    assert (swimming["bottom"] - swimming["top"]) / (story["bottom"] - story["top"]) == pytest.approx(7, rel=0.05)
    # Days are columns side by side on a desktop.
    assert blocks[("TUE", "Maths")]["left"] >= blocks[("MON", "English")]["right"] - 1
    assert blocks[("TUE", "Maths")]["top"] == pytest.approx(blocks[("MON", "English")]["top"], abs=1)
    assert layout["flagged"] == ["WED"] and layout["flagVisible"]
    assert layout["scrollWidth"] <= layout["width"]


def test_phone_week_stacks_the_days_and_keeps_the_time_axis(tmp_path: Path) -> None:
    layout = _measure(to_html_week(WEEK), tmp_path, width=390, height=2400, name="phone")
    _assert_time_axis(layout, WEEK)
    blocks = {(b["day"], b["subject"]): b for b in layout["blocks"]}
    # No sideways scrolling; the days follow each other down the page.
    assert layout["scrollWidth"] <= layout["width"]
    assert blocks[("TUE", "Maths")]["top"] > blocks[("MON", "Story")]["bottom"]
    assert layout["flagged"] == ["WED"] and layout["flagVisible"]
    swimming = blocks[("MON", "Swimming")]
    assert swimming["right"] - swimming["left"] > 100  # readable: a lane is not a sliver


def test_a_real_document_week_view(tmp_path: Path) -> None:
    """ly_2.pdf read by the platform's extraction, rendered and measured like the synthetic week."""
    from tests.conftest import REAL_CORPUS
    from timetable_platform.extraction.pipeline import extract_path

    path = REAL_CORPUS / "ly_2.pdf"
    if not path.is_file():
        pytest.skip("../shared/corpus/real/ly_2.pdf is not present")
    timetable = extract_path(path, mode="document_ai").timetable
    layout = _measure(to_html_week(timetable), tmp_path, width=1280, height=1400, name="ly_2")
    _assert_time_axis(layout, timetable)
