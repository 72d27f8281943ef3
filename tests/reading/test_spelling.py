"""One spelling per name in an OCR'd document: rare near copies of frequent values are misreadings."""

from __future__ import annotations

from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.reading.spelling import consolidate_spellings


def _timetable(*rows: tuple[str, str | None, str | None]) -> Timetable:
    return Timetable(
        entries=[
            Entry(day="MON", start=f"{8 + i:02d}:00", end=f"{9 + i:02d}:00", subject=s, teacher=t, room=r)
            for i, (s, t, r) in enumerate(rows)
        ]
    )


def test_rare_misreadings_take_the_documents_dominant_spelling() -> None:
    tt = _timetable(
        ("Chemistry", "Mr Brown", "C12"),
        ("Chemistry", "Mr Brown", "C12"),
        ("Chemistry", "Mr Brown", "C12"),
        ("Chemlstry", "Mr Brovvn", "Cl2"),
    )
    assert consolidate_spellings(tt) == 3
    assert {(e.subject, e.teacher, e.room) for e in tt.entries} == {("Chemistry", "Mr Brown", "C12")}


def test_letters_and_digits_ocr_confuses_compare_equal() -> None:
    tt = _timetable(("Art", None, "B151"), ("Art", None, "B151"), ("Art", None, "B151"), ("Art", None, "8151"))
    consolidate_spellings(tt)
    assert {e.room for e in tt.entries} == {"B151"}


def test_names_that_differ_in_a_number_or_short_code_stay_distinct() -> None:
    tt = _timetable(
        ("Maths 1", None, "Room 12"),
        ("Maths 1", None, "Room 12"),
        ("Maths 1", None, "Room 12"),
        ("Maths 2", None, "Room 13"),
        ("Physics A", None, None),
        ("Physics A", None, None),
        ("Physics A", None, None),
        ("Physics B", None, None),
    )
    assert consolidate_spellings(tt) == 0


def test_values_printed_about_as_often_are_both_kept() -> None:
    tt = _timetable(("Jansen", None, None), ("Jansen", None, None), ("Janssen", None, None), ("Janssen", None, None))
    assert consolidate_spellings(tt) == 0


def test_a_word_printed_with_its_accents_elsewhere_gets_them_back() -> None:
    """OCR drops small accents now and then: a word the document prints with its accents in another
    value of the same field is that word. A word never printed with accents stays as read, and a
    capitalised word or one in another field is left alone."""
    tt = _timetable(
        ("Física y Química", "Sr. García", None),
        ("Fisica y Quimica", "Sr. Garcia", None),
        ("Biologia", None, "Aula Garcia"),
        ("QUIMICA", None, None),
    )
    consolidate_spellings(tt)
    assert [(e.subject, e.teacher) for e in tt.entries] == [
        ("Física y Química", "Sr. García"),
        ("Física y Química", "Sr. García"),
        ("Biologia", None),
        ("QUIMICA", None),
    ]
    assert tt.entries[2].room == "Aula Garcia"  # another field's value


def test_another_title_is_another_person() -> None:
    """'Sra. Ortiz' printed once beside 'Sr. Ortiz' printed often is another teacher, not a misreading."""
    tt = _timetable(*[("Art", "Sr. Ortiz", None)] * 3, ("Art", "Sra. Ortiz", None), ("Art", "Mr Lee", None), ("Art", "Ms Lee", None))
    consolidate_spellings(tt)
    assert [e.teacher for e in tt.entries].count("Sra. Ortiz") == 1
    assert {e.teacher for e in tt.entries} == {"Sr. Ortiz", "Sra. Ortiz", "Mr Lee", "Ms Lee"}


def test_a_break_misread_alike_on_every_day_is_the_break() -> None:
    """A break row prints the same word each day, so OCR misreads it alike each day and the document
    holds no clean copy: a one-word name one letter off a break or registration word, at the same time
    on several days, is that word. The same near-miss on one day only, or a short word, stays."""
    days = ("MON", "TUE", "WED", "THU", "FRI")
    entries = [Entry(day=d, start="10:10", end="10:30", subject="Brak") for d in days]
    entries += [Entry(day=d, start="12:30", end="13:30", subject="LUNH") for d in days]
    entries += [Entry(day=d, start="08:45", end="08:55", subject="Registr") for d in days[:3]]
    entries += [Entry(day="MON", start="14:00", end="15:00", subject="Snak")]  # one day only
    entries += [Entry(day=d, start="09:00", end="10:00", subject="Art") for d in days]  # 'art' is no term
    tt = Timetable(entries=entries)
    assert consolidate_spellings(tt) == 13
    by_start = {(e.start, e.subject, e.kind) for e in tt.entries}
    assert by_start == {
        ("10:10", "Break", "break"),
        ("12:30", "LUNCH", "break"),
        ("08:45", "Register", "other"),
        ("14:00", "Snak", "lesson"),
        ("09:00", "Art", "lesson"),
    }
