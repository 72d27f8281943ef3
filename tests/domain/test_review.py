"""What a teacher is asked to check: the merge's and checks' findings in plain words."""

from __future__ import annotations

from tests.domain.test_merge import BASE, e, week
from timetable_platform.domain import review
from timetable_platform.domain.merge import merge_candidates
from timetable_platform.domain.model import Timetable
from timetable_platform.domain.validate import semantic_issues

JARGON = ("vs", "second reading only", "not added", "unconfirmed", "MON", "TUE", "WED", "THU", "FRI")


def _merge_warnings() -> list[str]:
    """Real merge output: a subject disagreement, a time disagreement, a block only the second
    reading saw, and a day only the second reading found."""
    first = [x.model_copy() for x in BASE]
    second = [x.model_copy() for x in BASE]
    second[4] = e("WED", "09:00", "10:00", "OKA", confidence=0.85)
    second[0] = e("MON", "09:00", "10:30", "Maths", confidence=0.85)
    second.append(e("MON", "14:00", "15:00", "Ghost", confidence=0.85))
    second += [e("THU", f"{h:02d}:00", f"{h + 1:02d}:00", s, confidence=0.85) for h, s in ((9, "A"), (10, "B"), (11, "C"))]
    warnings = merge_candidates(week(first), week(second)).warnings
    assert len(warnings) == 4, warnings
    return warnings


def test_every_merge_warning_is_reworded_for_a_teacher() -> None:
    plain = sorted(str(review.plain_warning(w)) for w in _merge_warnings())
    assert plain == sorted([
        'Wednesday 09:00-10:00: read once as "Science" and once as "OKA"; check which is right.',
        "Maths on Monday: its time was read once as 09:00-10:00 and once as 09:00-10:30; check the printed time.",
        "The lessons of Thursday were found by only one of the two readings: check them.",
        "Some blocks were seen only in the second reading and left out (Monday 14:00-15:00 'Ghost'): "
        "check that no lesson is missing.",
    ])
    for notice in plain:
        assert not any(f" {word} " in f" {notice} " for word in JARGON), notice


def test_unknown_warnings_pass_through_and_image_processing_notes_are_left_out() -> None:
    assert review.plain_warning("low OCR confidence on many words; check the image quality") == (
        "low OCR confidence on many words; check the image quality"
    )
    assert review.plain_warning("page 1: deskewed by 0.50 degrees") is None


def test_notices_name_overlaps_days_and_times_in_plain_words() -> None:
    timetable = Timetable(
        entries=[
            e("MON", "14:15", "15:10", "Maths"),
            e("MON", "15:00", "15:15", "Storytime"),
            e("TUE", "11:00", "10:00", "History"),
            e("THU", "09:00", "10:00", "Art"),
        ],
        warnings=["page 2: deskewed by 1.00 degrees"],
    )
    assert review.notices(timetable) == [
        "Two lessons overlap on Monday, 14:15-15:10 (Maths) and 15:00-15:15 (Storytime): check the printed times.",
        "History on Tuesday ends before it starts (11:00-10:00): check its times.",
        "No lessons were read for Wednesday, though the days around it have lessons: check that day in the document.",
    ]
    for notice in review.notices(timetable):
        assert not any(f" {word} " in f" {notice} " for word in JARGON), notice
    assert semantic_issues(timetable)  # the engineers' wording stays available


def test_empty_days_are_only_those_between_days_with_lessons_in_a_week() -> None:
    assert review.empty_days(week([e("MON", "09:00", "10:00", "A"), e("TUE", "09:00", "10:00", "B")])) == []
    two_weeks = week(
        [
            e("MON", "09:00", "10:00", "A", week="A"),
            e("WED", "09:00", "10:00", "B", week="A"),
            e("TUE", "09:00", "10:00", "C", week="B"),
        ]
    )
    assert review.empty_days(two_weeks) == ["TUE"]
