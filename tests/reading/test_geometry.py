"""The shared geometry helpers on small made-up positions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from timetable_platform.domain.layout import BBox
from timetable_platform.reading.geometry import (
    DisjointSet,
    cluster_centres,
    cluster_values,
    span_overlap,
    union_boxes,
    x_overlap,
    y_overlap,
)


def test_cluster_values_sorts_and_chains_within_tolerance() -> None:
    # 10, 11.5 and 13 chain (each within 2 of the previous) although 10 and 13 are 3 apart.
    assert cluster_values([13.0, 50.0, 10.0, 11.5, 52.0], 2.0) == [[10.0, 11.5, 13.0], [50.0, 52.0]]


def test_cluster_tolerance_is_inclusive_and_zero_keeps_distinct_values_apart() -> None:
    assert cluster_values([0.0, 2.0], 2.0) == [[0.0, 2.0]]
    assert cluster_values([0.0, 2.0], 1.999) == [[0.0], [2.0]]
    assert cluster_values([5.0, 5.0, 6.0], 0.0) == [[5.0, 5.0], [6.0]]
    assert cluster_values([], 1.0) == []


def test_cluster_centres_are_the_means_of_the_runs_in_order() -> None:
    # Ruling segments of three grid lines, drawn slightly off each other.
    assert cluster_centres([100.5, 0.0, 99.5, 1.0, 200.0], 2.0) == [0.5, 100.0, 200.0]


def test_union_boxes_holds_every_box_and_accepts_any_iterable() -> None:
    boxes = [BBox(10, 20, 30, 25), BBox(5, 22, 12, 40), BBox(28, 18, 29, 19)]
    assert union_boxes(boxes) == BBox(5, 18, 30, 40)
    assert union_boxes(b for b in boxes[:1]) == boxes[0]


def test_union_of_no_boxes_is_an_error() -> None:
    with pytest.raises(ValueError, match="no boxes"):
        union_boxes([])


def test_span_overlap_is_the_shared_length_or_minus_the_gap() -> None:
    assert span_overlap(0, 10, 5, 20) == 5
    assert span_overlap(5, 20, 0, 10) == 5
    assert span_overlap(0, 10, 2, 3) == 1  # one inside the other
    assert span_overlap(0, 10, 10, 20) == 0  # touching
    assert span_overlap(0, 10, 14, 20) == -4  # 4 apart


@dataclass
class _Span:
    x0: float
    top: float
    x1: float
    bottom: float


def test_x_and_y_overlap_read_boxes_and_any_object_with_the_same_edges() -> None:
    word = BBox(0, 0, 10, 10)
    phrase = _Span(x0=8, top=12, x1=30, bottom=20)
    assert x_overlap(word, phrase) == 2
    assert y_overlap(word, phrase) == -2
    assert y_overlap(phrase, BBox(0, 15, 1, 40)) == 5


def test_disjoint_set_merges_groups_named_after_their_smallest_member() -> None:
    # A 2 x 3 grid of slots: slot 1 spans into 2, slot 3 spans down from 0.
    slots = DisjointSet(6)
    slots.union(2, 1)
    slots.union(3, 0)
    slots.union(1, 2)  # already merged: no change
    assert [slots.find(i) for i in range(6)] == [0, 1, 1, 0, 4, 5]
    slots.union(5, 3)
    assert {slots.find(i) for i in (0, 3, 5)} == {0}
    assert slots.find(4) == 4


def test_split_at_gaps_cuts_a_line_where_columns_part_it() -> None:
    """A PDF line runs across the page: words a space apart stay one line, a gap of several line
    heights (the next column) starts another."""
    from timetable_platform.domain.layout import Line, Word
    from timetable_platform.reading.geometry import split_at_gaps

    def word(text: str, x: float) -> Word:
        return Word(text, BBox(x, 0, x + 8 * len(text), 10))

    words = [word("Mon", 0), word("Tue", 200), word("Wed", 400), word("12", 432)]
    parts = split_at_gaps(Line(words=words, bbox=union_boxes(w.bbox for w in words)))
    assert [p.text for p in parts] == ["Mon", "Tue", "Wed 12"]
    assert parts[2].bbox == BBox(400, 0, 448, 10)
    single = Line(words=words[2:], bbox=BBox(400, 0, 448, 10))
    assert split_at_gaps(single) == [single]
