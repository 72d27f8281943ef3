from __future__ import annotations

import pytest

from timetable_platform.domain.days import (
    detect_language,
    join_spaced_letters,
    parse_day,
    resolve_day_sequence,
)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("Monday", "MON"), ("MONDAY", "MON"), ("Mon", "MON"), ("Mon.", "MON"), ("mon:", "MON"),
        ("Tu", "TUE"), ("Tues", "TUE"), ("Wed", "WED"), ("Weds", "WED"), ("Th", "THU"), ("Thurs", "THU"),
        ("Fri", "FRI"), ("Saturday", "SAT"), ("Sun", "SUN"),
        ("Montag", "MON"), ("Mo", "MON"), ("Di", "TUE"), ("Mi", "WED"), ("Do", "THU"), ("Fr", "FRI"),
        ("Sa", "SAT"), ("So", "SUN"), ("Mit.", "WED"), ("Don.", "THU"), ("Sonnabend", "SAT"),
        ("lundi", "MON"), ("Lun", "MON"), ("Mer", "WED"), ("jeudi", "THU"), ("Vendredi", "FRI"),
        ("lunes", "MON"), ("Mié", "WED"), ("miércoles", "WED"), ("X", "WED"), ("Jueves", "THU"),
        ("lunedì", "MON"), ("Lunedi", "MON"), ("giovedì", "THU"), ("Venerdì", "FRI"),
        ("maandag", "MON"), ("wo", "WED"), ("do", "THU"), ("vr", "FRI"), ("za", "SAT"), ("zo", "SUN"),
        ("segunda-feira", "MON"), ("Quarta", "WED"),
        ("M O N", "MON"), ("M\nO\nN", "MON"), ("T\nU\nE\nS", "TUE"), ("W E D", "WED"),
        ("Monday 12/11", "MON"), ("Montag, 12.11.", "MON"),
    ],
)
def test_parse_day(text: str, day: str) -> None:
    assert parse_day(text) == day


@pytest.mark.parametrize("text", ["Maths", "Time", "Period 1", "Registration", "Break", "", "7B", "Mathe", "Tutor"])
def test_parse_day_rejects_other_words(text: str) -> None:
    assert parse_day(text) is None


@pytest.mark.parametrize(
    ("text", "language", "day"),
    [
        ("Ma", "nl", "MON"), ("Ma", "fr", "TUE"), ("ma", "it", "TUE"),
        ("Di", "de", "TUE"), ("Di", "fr", "SUN"), ("di", "nl", "TUE"),
        ("Do", "de", "THU"), ("Do", "es", "SUN"),
        ("M", "en", "MON"), ("M", "es", "TUE"), ("M", "de", None),
        ("S", "fr", "SAT"), ("S", "en", None), ("T", "en", None),
        ("Me", "fr", "WED"), ("Mi", "es", "WED"),
    ],
)
def test_parse_day_uses_language_for_ambiguous_forms(text: str, language: str, day: str | None) -> None:
    assert parse_day(text, language) == day


def test_two_letters_naming_a_day_only_in_a_less_common_language_are_no_day_in_a_known_one() -> None:
    """'RE' and 'PE' are subjects of English schools; as days they are Estonian (Friday) and Turkish
    (Thursday). In a document of known language they are not days; full names of another language and
    the main languages' short forms still are, and the language itself reads its own forms."""
    assert parse_day("RE", "en") is None and parse_day("PE", "en") is None
    assert parse_day("Re", "et") == "FRI" and parse_day("RE") == "FRI"
    assert parse_day("Montag", "en") == "MON" and parse_day("Mo", "en") == "MON" and parse_day("Di", "en") == "TUE"


@pytest.mark.parametrize("text", ["S127", "M12", "F3"])
def test_a_letter_with_digits_glued_on_is_a_code_not_a_day(text: str) -> None:
    """Room and course codes ('S127') start with a day's one-letter form; a date after a day is set
    apart ('S 12') or follows a longer name ('Mo3')."""
    assert parse_day(text, "fr") is None and parse_day(text, "en") is None
    assert parse_day("S 12", "fr") == "SAT" and parse_day("Mo3", "de") == "MON"


def test_unsettled_forms_without_language() -> None:
    assert parse_day("T") is None
    assert parse_day("S") is None


@pytest.mark.parametrize(
    ("labels", "language", "expected"),
    [
        (["Time", "M", "T", "W", "T", "F"], None, [None, "MON", "TUE", "WED", "THU", "FRI"]),
        (["M", "T", "W", "T", "F", "S", "S"], None, ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]),
        (["Mo", "Di", "Mi", "Do", "Fr"], None, ["MON", "TUE", "WED", "THU", "FRI"]),
        (["ma", "di", "wo", "do", "vr"], None, ["MON", "TUE", "WED", "THU", "FRI"]),
        (["L", "M", "M", "J", "V"], None, ["MON", "TUE", "WED", "THU", "FRI"]),
        (["L", "M", "X", "J", "V"], "es", ["MON", "TUE", "WED", "THU", "FRI"]),
        (["M", "D", "M", "D", "F"], "de", ["MON", "TUE", "WED", "THU", "FRI"]),
        (["Mon", "Wed", "Fri"], None, ["MON", "WED", "FRI"]),
        (["T", "W", "T"], None, ["TUE", "WED", "THU"]),
        (["#", "Std.", "Montag", "Dienstag"], None, [None, None, "MON", "TUE"]),
        (["M", "T", "W", "T", "F", "M", "T", "W", "T", "F"], None,
         ["MON", "TUE", "WED", "THU", "FRI", "MON", "TUE", "WED", "THU", "FRI"]),
    ],
)
def test_resolve_day_sequence(labels: list[str], language: str | None, expected: list[str | None]) -> None:
    assert resolve_day_sequence(labels, language) == expected


def test_resolve_day_sequence_without_days() -> None:
    assert resolve_day_sequence(["Time", "P1", "P2"]) == [None, None, None]


@pytest.mark.parametrize(
    ("texts", "language"),
    [
        (["Std.", "Montag", "Pause", "Mathe"], "de"),
        (["Période", "lundi", "Récré"], "fr"),
        (["Hora", "lunes", "martes", "Recreo"], "es"),
        (["Orario", "lunedì", "Intervallo"], "it"),
        (["Lesuur", "maandag", "dinsdag", "Pauze"], "nl"),
        (["Time", "Monday", "Break", "Lunch"], "en"),
        (["12", "R101"], None),
    ],
)
def test_detect_language(texts: list[str], language: str | None) -> None:
    assert detect_language(texts) == language


def test_join_spaced_letters() -> None:
    assert join_spaced_letters("B R E A K") == "BREAK"
    assert join_spaced_letters("B\nR\nE\nA\nK") == "BREAK"
    assert join_spaced_letters(" L U N C H ") == "LUNCH"
    assert join_spaced_letters("Maths\nOKA") == "Maths\nOKA"
    assert join_spaced_letters("A B") == "A B"
    assert join_spaced_letters("Year 7 B") == "Year 7 B"


def test_stacked_letters_as_ocr_reads_them_are_joined() -> None:
    # A capital read doubled in both cases, or with the rule beside it: still one letter per line.
    assert parse_day("Ww\nE\nD") == "WED" and parse_day("WwW\nE\nD") == "WED"
    assert parse_day("M\noO\nN") == "MON"
    assert parse_day("T\nH\nU\nR\nS)") == "THU"
    assert join_spaced_letters("Ab\nC") == "Ab\nC"  # two different letters are no one letter
    assert join_spaced_letters("PE\nPE") == "PE\nPE"


@pytest.mark.parametrize(
    ("text", "day"),
    [("Senin", "MON"), ("Jumat", "FRI"), ("Pazartesi", "MON"), ("Środa", "WED"), ("Torsdag", "THU"),
     ("Monday 13th Oct", "MON"), ("Wed, Oct 15", "WED"), ("Mardi 3 septembre", "TUE"), ("Thurs 16th Oct", "THU"),
     ("Seg., 10 de março", "MON"), ("Martes 4 de marzo", "TUE"), ("Mo.,_24. März", "MON"),
     ("Segunda-\nfeira", "MON"), ("Wednes-\nday", "WED")],
)
def test_day_names_of_every_cldr_language_and_dated_labels(text: str, day: str) -> None:
    assert parse_day(text) == day


def test_two_letter_labels_shared_by_two_days_are_settled_by_their_order() -> None:
    # Indonesian short labels: 'Se' starts Senin (Monday) and Selasa (Tuesday).
    assert resolve_day_sequence(["Se", "Se", "Ra", "Ka", "Ju"], "id") == ["MON", "TUE", "WED", "THU", "FRI"]


def test_abbreviated_day_names_tell_a_pages_language() -> None:
    """A week view headed with CLDR's abbreviations alone names its language: 'JUE' and 'MIÉ' are
    Spanish only, 'QUA' and 'SEX' Portuguese only; a form several languages share counts for each of
    them a little, and a full name weighs more than an abbreviation."""
    from timetable_platform.domain.days import language_evidence

    spanish = language_evidence(["LUN MAR MIÉ JUE VIE"], ("en", "fr", "es", "it", "pt"))
    assert spanish.most_common(1)[0][0] == "es" and spanish["fr"] < spanish["es"]
    portuguese = language_evidence(["SEG", "TER", "QUA", "QUI", "SEX"], ("en", "es", "pt"))
    assert portuguese.most_common(1)[0][0] == "pt"
    assert language_evidence(["Mon Tue Wed"], ("en", "de")).most_common(1)[0][0] == "en"
    assert language_evidence(["Montag"], ("de",))["de"] > language_evidence(["Mon"], ("en",))["en"]
    assert not language_evidence(["08:00 - 09:00", "R101"], ("en", "de"))


@pytest.mark.parametrize("text,day", [("Friday -", "FRI"), ("| Monday", "MON"), ("Mittwoch ~ ‘", "WED")])
def test_a_mark_apart_from_a_day_name_is_debris(text: str, day: str) -> None:
    """OCR reads the end of a rule or a box's outline beside a header's day name as a mark of its own
    ('Friday -'); the day is still named. Marks between two words leave them two words ('Mo - Fr')."""
    assert parse_day(text) == day


def test_marks_between_words_are_kept() -> None:
    assert parse_day("Mo - Fr") is None and parse_day("-") is None
