"""Helpers shared by the readers: grouping words into lines, nominal geometry for office formats, styles."""

from __future__ import annotations

import re
from collections.abc import Sequence

from timetable_platform.domain.layout import BBox, Line, Word
from timetable_platform.reading.geometry import union_boxes

# Nominal grid for formats without geometry (DOCX, XLSX, CSV): one column is 100 units, one text line 20.
NOMINAL_COL_WIDTH = 100.0
NOMINAL_LINE_HEIGHT = 20.0
_TOKEN = re.compile(r"(\s*)(\S+)")


def group_lines(words: Sequence[Word]) -> list[Line]:
    """Group words into lines in reading order: upright words by baseline, vertical words by column."""
    upright = [w for w in words if w.rotation not in (90, 270)]
    vertical = [w for w in words if w.rotation in (90, 270)]
    lines: list[Line] = []
    current: list[Word] = []
    # Words sorted top-down; a word joins the line when its baseline (bottom) is close to the line's.
    for word in sorted(upright, key=lambda w: (round(w.bbox.bottom, 1), w.bbox.x0)):
        if current:
            ref = current[-1]
            tolerance = (
                0.4 * min(ref.bbox.height, word.bbox.height) if ref.bbox.height and word.bbox.height else 1.0
            )
            if abs(word.bbox.bottom - ref.bbox.bottom) > max(tolerance, 0.5):
                lines.append(_make_line(current))
                current = []
        current.append(word)
    if current:
        lines.append(_make_line(current))
    lines.extend(_vertical_lines(vertical))
    lines.sort(key=lambda line: (round(line.bbox.top, 1), line.bbox.x0))
    return lines


def _make_line(words: list[Word]) -> Line:
    ordered = sorted(words, key=lambda w: w.bbox.x0)
    return Line(words=ordered, bbox=union_boxes(w.bbox for w in ordered))


def _vertical_lines(words: list[Word]) -> list[Line]:
    out: list[Line] = []
    groups: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.rotation, w.bbox.x0)):
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and last.rotation == word.rotation
            and abs(last.bbox.x0 - word.bbox.x0) <= 0.4 * max(min(last.bbox.width, word.bbox.width), 1.0)
        ):
            groups[-1].append(word)
        else:
            groups.append([word])
    for group in groups:
        # 90 degrees reads bottom-to-top, 270 top-to-bottom.
        ordered = sorted(group, key=lambda w: w.bbox.top, reverse=group[0].rotation == 90)
        out.append(Line(words=ordered, bbox=union_boxes(w.bbox for w in ordered)))
    return out


def nominal_words(text: str, x0: float, top: float, style: str | None = None) -> list[Word]:
    """Words of one text line laid out on the nominal grid (width proportional to characters).

    Gaps keep the printed spacing (a tab counts as four spaces), so "OWU  Lab 3" shows its wider gap.
    """
    words: list[Word] = []
    char_width = NOMINAL_COL_WIDTH / 20
    x = x0
    for match in _TOKEN.finditer(text.expandtabs(4).strip()):
        gap, token = match.group(1), match.group(2)
        x += char_width * len(gap)
        width = char_width * len(token)
        words.append(Word(text=token, bbox=BBox(x, top, x + width, top + NOMINAL_LINE_HEIGHT), style=style))
        x += width
    return words


def nominal_lines(
    texts: Sequence[tuple[str, str | None]], x0: float, top: float, height: float | None = None
) -> list[Line]:
    """Lines (text, style) stacked from ``top``; squeezed into ``height`` when given so they stay inside a cell."""
    kept = [(t, s) for t, s in texts if t.strip()]
    if not kept:
        return []
    step = NOMINAL_LINE_HEIGHT if height is None else min(NOMINAL_LINE_HEIGHT, height / len(kept))
    lines: list[Line] = []
    for index, (text, style) in enumerate(kept):
        words = nominal_words(text, x0 + 2, top + index * step, style)
        for word in words:
            word.bbox = BBox(word.bbox.x0, top + index * step, word.bbox.x1, top + (index + 1) * step)
        lines.append(Line(words=words, bbox=union_boxes(w.bbox for w in words)))
    return lines


def join_styles(*tokens: str | None) -> str | None:
    """Style hint as space-separated tokens, e.g. "bold italic #c00000"; None when nothing is known."""
    kept = [t for t in tokens if t]
    return " ".join(kept) if kept else None


def hex_colour(rgb: Sequence[float]) -> str:
    r, g, b = (max(0, min(255, round(float(v) * 255))) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"
