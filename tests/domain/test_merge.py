from __future__ import annotations

from timetable_platform.domain.merge import (
    CALIBRATION,
    MIN_COVERAGE,
    Agreement,
    align,
    entry_confidence,
    merge_candidates,
    merge_with_agreements,
    time_overlap,
)
from timetable_platform.domain.model import Entry, Owner, Timetable


def e(day: str, start: str | None, end: str | None, subject: str, **kw: object) -> Entry:
    return Entry(day=day, start=start, end=end, subject=subject, **kw)  # type: ignore[arg-type]


def week(entries: list[Entry], **kw: object) -> Timetable:
    return Timetable(entries=entries, **kw)  # type: ignore[arg-type]


BASE = [
    e("MON", "09:00", "10:00", "Maths", teacher="OKA", room="R101", confidence=1.0),
    e("MON", "10:00", "11:00", "English", teacher="IBR", confidence=1.0),
    e("TUE", "10:35", "11:35", "English", confidence=1.0),
    e("TUE", "11:35", "12:30", "History", confidence=1.0),
    e("WED", "09:00", "10:00", "Science", confidence=1.0),
]


def test_agreeing_readings_are_confident_and_quiet() -> None:
    merged, agreements = merge_with_agreements(week(BASE), week([x.model_copy() for x in BASE]))
    assert agreements == [Agreement.AGREE] * len(BASE)
    assert all(x.confidence is not None and x.confidence >= 0.95 for x in merged.entries)
    assert merged.warnings == []
    assert [(x.day, x.start, x.subject, x.teacher) for x in merged.entries] == [
        (x.day, x.start, x.subject, x.teacher) for x in BASE
    ]


def test_subject_disagreement_is_a_warning_and_the_documents_spelling_wins() -> None:
    second = [x.model_copy() for x in BASE]
    first = [x.model_copy() for x in BASE]
    first[2] = e("TUE", "10:35", "11:35", "Engl1sh", confidence=1.0)  # OCR slip in the first reading only
    merged = merge_candidates(week(first), week(second))
    tue = next(x for x in merged.entries if x.day == "TUE" and x.start == "10:35")
    assert tue.subject == "English"  # printed elsewhere in the document, unlike 'Engl1sh'
    assert "TUE 10:35-11:35: subject 'Engl1sh' vs 'English'" in merged.warnings
    assert tue.confidence is not None and tue.confidence < 0.95


def test_first_reading_wins_a_plain_disagreement() -> None:
    second = [x.model_copy() for x in BASE]
    second[4] = e("WED", "09:00", "10:00", "OKA", confidence=0.85)  # a teacher code read as the subject
    second[0] = e("MON", "09:00", "10:30", "Maths", confidence=0.85)
    merged = merge_candidates(week(BASE), week(second))
    wed = next(x for x in merged.entries if x.day == "WED")
    mon = next(x for x in merged.entries if x.day == "MON" and x.subject == "Maths")
    assert wed.subject == "Science" and (mon.start, mon.end) == ("09:00", "10:00")
    assert any(w == "WED 09:00-10:00: subject 'Science' vs 'OKA'" for w in merged.warnings)
    assert any("times 09:00-10:00 vs 09:00-10:30" in w for w in merged.warnings)
    # A caller who trusts the second reading more lets it overrule.
    trusting = merge_candidates(week(BASE), week(second), primary_weight=0.5, secondary_weight=1.0)
    mon2 = next(x for x in trusting.entries if x.day == "MON" and x.subject == "Maths")
    assert (mon2.start, mon2.end) == ("09:00", "10:30")


def test_unconfirmed_entries_score_lower_and_second_only_blocks_are_reported_not_added() -> None:
    second = [x.model_copy() for x in BASE[:4]] + [e("FRI", "09:00", "10:00", "Ghost", confidence=0.85)]
    merged, agreements = merge_with_agreements(week(BASE), week(second))
    assert agreements[-1] is Agreement.PRIMARY_ONLY
    wed = merged.entries[-1]
    assert wed.subject == "Science"
    assert wed.confidence is not None and wed.confidence < merged.entries[0].confidence  # type: ignore[operator]
    assert all(x.subject != "Ghost" for x in merged.entries)
    assert any("Ghost" in w for w in merged.warnings)


def test_low_coverage_means_no_entry_is_vouched_for() -> None:
    second = [e("THU", "09:00", "10:00", "Other", confidence=0.85)]
    merged, agreements = merge_with_agreements(week(BASE), week(second))
    assert set(agreements) == {Agreement.SINGLE}
    assert all(x.confidence == CALIBRATION[Agreement.SINGLE][0] for x in merged.entries)


def test_missing_readings() -> None:
    alone = merge_candidates(week(BASE, title="7B", owner=Owner(kind="class", name="7B")), None)
    assert [x.subject for x in alone.entries] == [x.subject for x in BASE]
    assert all(x.confidence == CALIBRATION[Agreement.SINGLE][0] for x in alone.entries)
    assert alone.owner is not None and alone.owner.name == "7B"
    only_second = merge_candidates(week([], warnings=["grid: nothing"]), week(BASE))
    assert len(only_second.entries) == len(BASE)
    assert "grid: nothing" in only_second.warnings


def test_alignment_by_overlap_week_and_period() -> None:
    first = [
        e("MON", "09:00", "10:40", "Maths", week="A"),
        e("MON", "09:00", "10:40", "Art", week="B"),
        e("TUE", None, None, "PE", period="P1"),
    ]
    second = [
        e("MON", "09:00", "09:50", "Art", week="B"),  # overlaps half of the double lesson
        e("TUE", None, None, "PE", period="P1"),
        e("MON", "09:00", "10:40", "Maths", week="B"),
    ]
    pairs, only_first, only_second = align(first, second)
    assert (1, 2) in pairs or (1, 0) in pairs
    assert (2, 1) in pairs
    assert only_first == [0]  # nothing in week A on the second reading
    assert len(pairs) + len(only_second) == len(second)


def test_time_overlap() -> None:
    assert time_overlap(e("MON", "09:00", "10:00", "A"), e("MON", "09:00", "10:00", "B")) == 1.0
    assert time_overlap(e("MON", "09:00", "10:00", "A"), e("MON", "09:30", "10:30", "B")) == 30 / 90
    assert time_overlap(e("MON", "09:00", "10:00", "A"), e("MON", "10:00", "11:00", "B")) == 0.0
    assert time_overlap(e("MON", "09:00", None, "A"), e("MON", "09:00", None, "B")) == 1.0


def test_confidence_table_orders_evidence() -> None:
    for own in (1.0, 0.9, 0.5):
        agree = entry_confidence(Agreement.AGREE, own_confidence=own)
        for weaker in (Agreement.PRIMARY_ONLY, Agreement.BOTH_DIFF, Agreement.SECONDARY_ONLY):
            assert entry_confidence(weaker, own_confidence=own) <= agree
    assert entry_confidence(Agreement.AGREE, own_confidence=0.7) < entry_confidence(Agreement.AGREE)
    low = entry_confidence(Agreement.AGREE, coverage=MIN_COVERAGE / 2)
    assert low == entry_confidence(Agreement.SINGLE)
    assert all(0.0 <= v <= 1.0 for row in CALIBRATION.values() for v in row)


def test_days_only_the_second_reading_found_are_added_unconfirmed() -> None:
    first = [e("WED", "09:00", "10:00", "Science", confidence=1.0), e("WED", "10:00", "11:00", "Art", confidence=1.0)]
    second = [x.model_copy() for x in first] + [
        e("THU", f"{h:02d}:00", f"{h + 1:02d}:00", s, confidence=0.85)
        for h, s in ((9, "Maths"), (10, "PE"), (11, "Latin"))
    ] + [e("FRI", "09:00", "10:00", "Lone", confidence=0.85)]
    merged, agreements = merge_with_agreements(week(first), week(second))
    added = [x for x, a in zip(merged.entries, agreements, strict=True) if a is Agreement.SECOND_ALONE]
    assert [x.subject for x in added] == ["Maths", "PE", "Latin"]  # FRI has one block only: not enough
    assert all(x.confidence is not None and x.confidence < 0.9 for x in added)
    assert any(w.startswith("THU: only the second reading") for w in merged.warnings)


def test_a_stray_code_after_the_name_loses_to_the_plain_name() -> None:
    first = [e("MON", "08:40", "09:00", "Tutor Time RS", confidence=1.0), e("MON", "09:00", "10:00", "Maths", confidence=1.0)]
    second = [e("MON", "08:40", "09:00", "Tutor Time", confidence=0.85), e("MON", "09:00", "10:00", "Maths", confidence=0.85)]
    merged = merge_candidates(week(first), week(second))
    assert merged.entries[0].subject == "Tutor Time"
    # And the other way round: the first reading's plain name stands.
    kept = merge_candidates(week(second), week(first))
    assert kept.entries[0].subject == "Tutor Time"


def test_a_contested_document_caps_every_confidence() -> None:
    first = [e("MON", f"{h:02d}:00", f"{h + 1:02d}:00", s, confidence=1.0) for h, s in
             ((9, "Maths"), (10, "Art"), (11, "PE"), (12, "Latin"), (13, "Music"))]
    calm = [x.model_copy() for x in first]
    calm[4] = e("MON", "13:00", "14:00", "Drama", confidence=0.85)
    shifted = [x.model_copy() for x in first]
    for x, s in zip(shifted[2:], ("Latin", "Music", "Maths"), strict=True):
        x.subject = s  # whole rows misplaced by one reading
    quiet = merge_candidates(week(first), week(calm))
    loud = merge_candidates(week(first), week(shifted))
    assert quiet.entries[0].confidence is not None and quiet.entries[0].confidence >= 0.95
    assert loud.entries[0].confidence is not None and loud.entries[0].confidence <= 0.85
    assert loud.entries[2].confidence is not None and loud.entries[2].confidence <= 0.2


def test_a_first_reading_that_placed_few_blocks_in_time_gives_way_to_the_second() -> None:
    """A photographed record table misread as a grid: the first reading kept a few rows with times and
    glued the rest into untimed blocks, while the word stream read every row. The first reading
    places far fewer blocks in the week than the second, so the second stands alone, unconfirmed."""
    days = ("MON", "TUE", "WED")
    first = [e(d, "08:45", "09:45", "- Clase", confidence=0.5) for d in days] + [
        e(d, None, None, "Sra. Torres", confidence=0.5) for d in days
    ]
    second = [
        e(d, f"{h:02d}:00", f"{h + 1:02d}:00", f"Subject {h}", confidence=0.85) for d in days for h in (8, 9, 10, 11)
    ]
    merged, agreements = merge_with_agreements(week(first), week(second))
    assert [x.subject for x in merged.entries] == [x.subject for x in second]
    assert set(agreements) == {Agreement.SECOND_ALONE}
    assert all(x.confidence is not None and x.confidence < 0.9 for x in merged.entries)
    assert any("the second is taken" in w for w in merged.warnings)
    # A first reading that places as many blocks keeps its place.
    kept, agreements = merge_with_agreements(week(second[:6]), week(second))
    assert [x.subject for x, a in zip(kept.entries, agreements, strict=True) if a is Agreement.AGREE] == [
        x.subject for x in second[:6]
    ]
