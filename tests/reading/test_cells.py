from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timetable_platform.reading.cells import (
    CellSplitter,
    classify_kind,
    is_code,
    is_group,
    is_room,
    is_teacher_name,
)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Break", "break"), ("BREAK", "break"), ("Morning Break", "break"), ("LUNCH", "break"),
        ("Lunch Break", "break"), ("Morning Recess", "break"), ("Große Pause", "break"), ("Mittagspause", "break"),
        ("récré", "break"), ("Récréation", "break"), ("Recreo", "break"), ("intervallo", "break"),
        ("pauze", "break"), ("Snack time", "break"), ("B R E A K", "break"),
        ("Registration", "other"), ("Register", "other"), ("Assembly", "other"), ("KS2 Assembly", "other"),
        ("Tutor Time", "other"), ("Form Time", "other"), ("Homeroom", "other"), ("Clubs", "other"),
        ("Versammlung", "other"), ("Klassenrat", "other"), ("Breakfast club", "other"),
        ("Maths", "lesson"), ("Englisch", "lesson"), ("Pausenhalle Aufsicht", "lesson"), ("", "lesson"),
    ],
)
def test_classify_kind(text: str, kind: str) -> None:
    assert classify_kind(text) == kind


def test_field_patterns() -> None:
    for room in ["R101", "Lab 2", "A-12", "Room 5", "Sports Hall", "Raum 12", "Salle 3", "Aula", "208", "Musiksaal",
                 "PC-Raum", "NW1", "Ch2", "DT Workshop", "ICT 1", "Gym"]:
        assert is_room(room), room
    for not_room in ["Maths", "Week 2", "7B", "OKA", "Year 10", "HAD Sports Hall", "KS2", "Station 5"]:
        assert not is_room(not_room), not_room
    for group in ["7B", "10E", "Y9", "4M", "5a", "Year 10", "Klasse 5a"]:
        assert is_group(group), group
    for teacher in ["Mr Smith", "Mrs Jensen", "Ms Price", "Miss Joynes", "Dr Ibrahim", "Herr Klein", "Frau Busch",
                    "Fr. Schmitt", "Hr. Becker", "M. Dupont", "Mme Dubois", "Sr. García", "Sra. López"]:
        assert is_teacher_name(teacher), teacher
    assert not is_teacher_name("Mrs Mensah B313")
    assert not is_teacher_name("Maths")


# One document's cells, as printed in the corpus families (three lines; code + room on one line;
# slash-separated teacher timetable; German middle dots).
CLASS_DOC = [
    ["Geography", "OKA", "E-05"], ["Physics", "NAK", "Lab 1"], ["English Literature", "IBR", "C-11"],
    ["RE", "CHO R323"], ["PE", "NOL Gym"], ["PE", "HAD  Sports Hall"], ["Music (Music 1)", "NOV"],
    ["PE (Gym)", "OWU"], ["Englisch", "BUS · B302"], ["Sport", "WOL · Turnhalle"],
    ["Politik", "Fr. Schmitt", "208"], ["English Language", "Mrs Mensah B313"], ["Maths", "R206"],
    ["English"], ["TTRS"], ["Engli", "sh"], ["Swimming", "/ Bedrock & TTRS /", "Handwriting / Finishing", "off"],
]


@pytest.mark.parametrize(
    ("lines", "subject", "teacher", "room"),
    [
        (["Geography", "OKA", "E-05"], "Geography", "OKA", "E-05"),
        (["RE", "CHO R323"], "RE", "CHO", "R323"),
        (["PE", "NOL Gym"], "PE", "NOL", "Gym"),
        (["PE", "HAD  Sports Hall"], "PE", "HAD", "Sports Hall"),
        (["Music (Music 1)", "NOV"], "Music", "NOV", "Music 1"),
        (["PE (Gym)", "OWU"], "PE", "OWU", "Gym"),
        (["Englisch", "BUS · B302"], "Englisch", "BUS", "B302"),
        (["Sport", "WOL · Turnhalle"], "Sport", "WOL", "Turnhalle"),
        (["Nederlands", "Mevr. Jansen", "Mediatheek"], "Nederlands", "Mevr. Jansen", "Mediatheek"),
        (["Educação Física", "Prof. Costa", "Pavilhão"], "Educação Física", "Prof. Costa", "Pavilhão"),
        (["Educación Física", "Sr. Gil", "Polideportivo"], "Educación Física", "Sr. Gil", "Polideportivo"),
        (["Politik", "Fr. Schmitt", "208"], "Politik", "Fr. Schmitt", "208"),
        (["English Language", "Mrs Mensah B313"], "English Language", "Mrs Mensah", "B313"),
        (["Maths / Mr Smith / R101"], "Maths", "Mr Smith", "R101"),
        (["Maths (OKA) R101"], "Maths", "OKA", "R101"),
        (["Maths - A12"], "Maths", None, "A12"),
        (["Maths, Lab 2"], "Maths", None, "Lab 2"),
        (["TTRS"], "TTRS", None, None),
        (["Art/DT"], "Art/DT", None, None),
        (["Outdoor learning with MD"], "Outdoor learning", "MD", None),
        (["Word Work (Phonics)"], "Word Work (Phonics)", None, None),
    ],
)
def test_split_class_timetable(lines: list[str], subject: str, teacher: str | None, room: str | None) -> None:
    splitter = CellSplitter.fit(CLASS_DOC)
    fields = splitter.split(lines)
    assert (fields.subject, fields.teacher, fields.room, fields.group) == (subject, teacher, room, None)


def test_split_keeps_slash_lists_and_joins_lines() -> None:
    splitter = CellSplitter.fit(CLASS_DOC)
    fields = splitter.split(["Swimming", "/ Bedrock & TTRS /", "Handwriting / Finishing", "off", "1.15-3PM"])
    assert fields.subject == "Swimming / Bedrock & TTRS / Handwriting / Finishing off"
    assert fields.teacher is None and fields.room is None
    assert splitter.split(["Whole Class", "Comprehension + TTRS"]).subject == "Whole Class Comprehension + TTRS"


def test_a_room_code_printed_in_lower_case_is_a_field_of_its_own() -> None:
    """Many schools print rooms in lower case ('s112', 'b2.04'): a line that starts lower case but is a
    code neither carries on the subject's words nor finishes a broken word."""
    splitter = CellSplitter.fit(CLASS_DOC)
    fields = splitter.split(["Drawing", "s112", "TOR"])
    assert (fields.subject, fields.teacher, fields.room) == ("Drawing", "TOR", "s112")
    assert splitter.split(["Drawing", "b2.04"]).room == "b2.04"
    assert is_room("B2.04") and not is_room("Week 2.5")
    # Words broken across lines are still joined.
    assert splitter.split(["Engli", "sh"]).subject == "English"


def test_a_bracket_wrapped_over_two_lines_is_read_whole() -> None:
    splitter = CellSplitter.fit(CLASS_DOC)
    fields = splitter.split(["Religion (Mrs", "Ward) A-17"])
    assert (fields.subject, fields.teacher, fields.room) == ("Religion", "Mrs Ward", "A-17")


def test_split_joins_broken_words_only_into_words() -> None:
    splitter = CellSplitter.fit(CLASS_DOC)
    assert splitter.split(["Engli", "sh"]).subject == "English"
    assert splitter.split(["Comprehens-", "ion/liibary"]).subject == "Comprehension/liibary"
    assert splitter.split(["Math s Con"]).subject == "Maths Con"
    assert splitter.split(["Design", "Technology"]).subject == "Design Technology"
    assert splitter.split(["Finishing", "off"]).subject == "Finishing off"


def test_split_teacher_timetable_puts_class_in_group() -> None:
    cells = [["9M / Physics / A-09"], ["7F / Science / Lab 4"], ["7A", "Computer Science", "ICT 1"], ["11E", "Computing", "B217"]]
    splitter = CellSplitter.fit(cells, owner_kind="teacher")
    first = splitter.split(cells[0])
    assert (first.group, first.subject, first.room, first.teacher) == ("9M", "Physics", "A-09", None)
    third = splitter.split(cells[2])
    assert (third.group, third.subject, third.room) == ("7A", "Computer Science", "ICT 1")


def test_split_notes_from_brackets_styles_and_descriptions() -> None:
    splitter = CellSplitter.fit(CLASS_DOC)
    bracket = splitter.split(["Maths", "(practical or TTRS)"])
    assert (bracket.subject, bracket.notes) == ("Maths", "practical or TTRS")
    styled = splitter.split(["Maths", "Compare and order time"], styles=[None, "red"])
    assert (styled.subject, styled.notes) == ("Maths", "Compare and order time")
    only_red = splitter.split(["Catch Up Slot"], styles=["red"])
    assert (only_red.subject, only_red.notes) == ("Catch Up Slot", None)
    described = splitter.split(["10.30-11.15", "Music:", "Brass –", "Trumpet"])
    assert (described.subject, described.notes) == ("Music", "Brass – Trumpet")


def test_split_drops_times_and_sets_kind() -> None:
    splitter = CellSplitter.fit(CLASS_DOC)
    fields = splitter.split(["2.50", "KS2", "Assembly"])
    assert (fields.subject, fields.room, fields.kind) == ("KS2 Assembly", None, "other")
    assert splitter.split(["B", "R", "E", "A", "K"]).subject == "BREAK"
    assert splitter.split(["Lunch"]).kind == "break"
    assert splitter.split([]).subject == ""


def test_document_codes_decide_teacher_or_subject() -> None:
    # In this document 'ABC' stands alone under subjects, so it is a teacher code here;
    # 'TTRS' only ever starts a cell, so it stays a subject.
    cells = [["Biology", "ABC"], ["Chemistry", "XYZ"], ["TTRS"], ["Maths", "ABC R3"]]
    splitter = CellSplitter.fit(cells)
    assert "ABC" in splitter.teacher_codes
    fields = splitter.split(["Reading ABC"])
    assert (fields.subject, fields.teacher) == ("Reading", "ABC")
    assert splitter.split(["Bedrock & TTRS"]).subject == "Bedrock & TTRS"


def test_a_code_after_several_names_is_their_room_and_one_after_one_name_its_course_code() -> None:
    # A university student's week: 'HALL210' follows three different courses, so it is a lecture
    # hall; 'PHY104' only ever follows 'Physics', so it is that course's code.
    cells = [["Optics - HALL210"], ["Geology - HALL210"], ["Botany HALL210"], ["Physics - PHY104"], ["Physics - PHY104"]]
    splitter = CellSplitter.fit(cells)
    fields = splitter.split(["Optics - HALL210"])
    assert (fields.subject, fields.room) == ("Optics", "HALL210")
    fields = splitter.split(["Physics - PHY104"])
    assert (fields.subject, fields.room) == ("Physics - PHY104", None)
    # Alone in its document, the same shape stays a course code.
    assert CellSplitter.fit([["Optics - HALL210"]]).split(["Optics - HALL210"]).room is None


def test_a_roman_numeral_after_a_course_name_is_part_of_the_name() -> None:
    # University courses are numbered in Roman figures; a code alone on its own line stays a teacher.
    splitter = CellSplitter.fit([["Optics II - AB13"], ["Geometry III"], ["Zoology IV HALL5"], ["Botany", "IV"]])
    fields = splitter.split(["Optics II - AB13"])
    assert (fields.subject, fields.teacher, fields.room) == ("Optics II", None, "AB13")
    assert splitter.split(["Geometry III"]).subject == "Geometry III"
    assert splitter.split(["Zoology IV HALL5"]).room == "HALL5"
    assert splitter.split(["Botany", "IV"]).teacher == "IV"


def test_a_room_wrapped_after_a_dash_is_the_room_and_a_course_code_joins_the_name() -> None:
    splitter = CellSplitter.fit([["Zoology -", "AB12"], ["Physics -", "PHY104"]])
    fields = splitter.split(["Zoology -", "AB12"])
    assert (fields.subject, fields.room) == ("Zoology", "AB12")
    assert splitter.split(["Physics -", "PHY104"]).subject == "Physics - PHY104"


def test_split_tolerates_a_bracket_lost_by_ocr() -> None:
    splitter = CellSplitter.fit([["Mathe (324)", "KRU"], ["Englisch (322)", "KOH"]])
    assert (splitter.split(["Englisch 322)", "KOH"]).subject, splitter.split(["Englisch 322)", "KOH"]).room) == (
        "Englisch",
        "322",
    )
    lost = splitter.split(["Informatik (Inf", "LEH"])
    assert (lost.subject, lost.teacher, lost.notes) == ("Informatik", "LEH", "Inf")
    assert splitter.split(["Word Work (Phonics)"]).subject == "Word Work (Phonics)"


def test_split_ocr_line_artifacts() -> None:
    splitter = CellSplitter.fit([["Mathe", "BRA · C219"]])
    dangling = splitter.split(["Musik", "KLE -", "Musiksaal"])
    assert (dangling.subject, dangling.teacher, dangling.room) == ("Musik", "KLE", "Musiksaal")
    merged = splitter.split(["Kunst MEI · Kunstraum"])
    assert (merged.subject, merged.teacher, merged.room) == ("Kunst", "MEI", "Kunstraum")


def test_split_several_fields_in_one_bracket() -> None:
    splitter = CellSplitter.fit([])
    fields = splitter.split(["Science (Mrs Patel, 193)"])
    assert (fields.subject, fields.teacher, fields.room) == ("Science", "Mrs Patel", "193")
    assert splitter.split(["Maths (practical, fun)"]).subject == "Maths (practical, fun)"


def test_room_misread_by_ocr_is_the_room_the_document_prints() -> None:
    splitter = CellSplitter.fit([["History", "R5"], ["Tutor Time", "RS"], ["Maths", "B10"]])
    fields = splitter.split(["Tutor Time", "RS"])
    assert (fields.subject, fields.room) == ("Tutor Time", "R5")
    assert splitter.split(["Maths", "B1O"]).room == "B10"
    assert splitter.split(["RS"]).subject == "RS"  # alone it is a subject (Religious Studies)


def test_a_name_the_document_prints_alone_keeps_descriptions_out() -> None:
    cells = [
        ["English", "Sentence Stack 5"], ["English", "Experience Day"], ["Maths", "Test Revision"],
        ["Maths"], ["Morning", "Break"], ["Morning", "Break"], ["Whole Class", "Comprehension + TTRS"],
    ]
    splitter = CellSplitter.fit(cells)
    english = splitter.split(["English", "Sentence Stack 6"])
    assert (english.subject, english.notes) == ("English", "Sentence Stack 6")
    assert splitter.split(["Morning", "Break"]).subject == "Morning Break"  # one name over two lines
    assert splitter.split(["Whole Class", "Comprehension + TTRS"]).subject == "Whole Class Comprehension + TTRS"
    assert splitter.split(["Maths", "Mrs Jensen"]).teacher == "Mrs Jensen"


def test_italian_titles() -> None:
    fields = CellSplitter.fit([]).split(["Italiano", "Prof.ssa Esposito"])
    assert (fields.subject, fields.teacher) == ("Italiano", "Prof.ssa Esposito")
    # Printed without the dot, or read by OCR with a space for it.
    for name in ("Prof ssa Esposito", "Prof. ssa Esposito", "Dott ssa Neri", "Sig ra Bruno"):
        assert CellSplitter.fit([]).split(["Storia", name]).teacher == name


@pytest.mark.parametrize(
    ("lines", "teacher"),
    [
        (["IPA", "Bpk. Wijaya"], "Bpk. Wijaya"),  # Indonesian: Bapak / Ibu
        (["PKn", "Ibu Santoso"], "Ibu Santoso"),
        (["Historia", "Lic. Ramírez"], "Lic. Ramírez"),  # Latin American academic titles
        (["Fizyka", "Pani Nowak"], "Pani Nowak"),  # Polish
        (["Tekenen", "Dhr. de Wit"], "Dhr. de Wit"),  # surnames with lower-case particles
        (["Erdkunde", "Herr von Arx"], "Herr von Arx"),
        (["Dibujo", "Sra. de la Fuente"], "Sra. de la Fuente"),
    ],
)
def test_titles_of_more_languages_mark_the_teacher(lines: list[str], teacher: str) -> None:
    fields = CellSplitter.fit([]).split(lines)
    assert (fields.subject, fields.teacher) == (lines[0], teacher)


def test_a_code_after_a_slash_is_the_same_field_across_the_document() -> None:
    # University class timetables print 'COURSE(type)/INITIALS'; the initials wrap in narrow cells.
    doc = [["PHY(L)/JK"], ["CHEM(L)/RT", ""], ["MATH(T1)/S"], ["PHY(L)/J", "K"], ["BIO(L)/"], ["CHEM(P1)/RT"]]
    splitter = CellSplitter.fit(doc)
    assert [(f.subject, f.teacher) for f in map(splitter.split, doc)] == [
        ("PHY(L)", "JK"),
        ("CHEM(L)", "RT"),
        ("MATH(T1)", "S"),
        ("PHY(L)", "JK"),
        ("BIO(L)/", None),
        ("CHEM(P1)", "RT"),
    ]
    assert splitter.split(["MATH(T1)/S"]).group == "T1"  # a batch in brackets is the group too


def test_a_slash_ocr_lost_after_a_bracketed_mark_still_parts_the_code() -> None:
    # Photographed university timetables: the slash of 'COURSE(type)/INITIALS' in small print is
    # read as a space or lost. A code the document prints after a slash elsewhere is still the
    # teacher ('AG' is a subject abbreviation in some schools, not here); a code it never does is not.
    doc = [["ECO(L)/AG"], ["GEO(L)/PR"], ["ECO(T1)/AG"], ["ECO(L) AG"], ["GEO(L)PR"], ["HIST(L) PE"]]
    splitter = CellSplitter.fit(doc)
    assert [(f.subject, f.teacher) for f in map(splitter.split, doc[3:])] == [
        ("ECO(L)", "AG"),
        ("GEO(L)", "PR"),
        ("HIST(L) PE", None),
    ]
    assert splitter.parallel(["ECO(P1) AG", "GEO(P2)/PR"]) == [["ECO(P1) AG"], ["GEO(P2)/PR"]]
    # A photo where most cells lost the slash: those that kept it still set the document's reading.
    blurred = [["ECO(L)/A"], ["GEO(L) PR"], ["ECO(L) A"], ["GEO(L)/PR"], ["HIST(L)PR"], ["ECO(T1) A"]]
    splitter = CellSplitter.fit(blurred)
    assert [(f.subject, f.teacher) for f in map(splitter.split, blurred)] == [
        ("ECO(L)", "A"), ("GEO(L)", "PR"), ("ECO(L)", "A"), ("GEO(L)", "PR"), ("HIST(L)", "PR"), ("ECO(T1)", "A"),
    ]


def test_a_course_code_wrapped_after_a_dash_stays_in_the_name() -> None:
    # Narrow cells of university timetables wrap 'Physics - PHY101' after the dash; the code alone on
    # the next line looks like a room ('PHY101'), but the dash says the name goes on.
    doc = [["Optics -", "PHY101", "Hall B2"], ["Algebra - MTH104", "Hall B2"], ["Ethics -", "HUM210", "Hall B2"]]
    splitter = CellSplitter.fit(doc)
    assert [splitter.split(cell).subject for cell in doc] == ["Optics - PHY101", "Algebra - MTH104", "Ethics - HUM210"]
    # A dash ending a field line below the name is no wrap of the name.
    assert splitter.split(["Optics", "OKA -", "R12"]) == splitter.split(["Optics", "OKA", "R12"])


def test_lines_that_are_each_a_whole_lesson_are_parallel_lessons() -> None:
    doc = [["PHY(L)/JK"], ["CHEM(L)/RT"], ["MATH(L)/S"], ["PHY(P1)/JK", "CHEM(P2)/R", "T"]]
    splitter = CellSplitter.fit(doc)
    assert splitter.parallel(["PHY(P1)/JK", "CHEM(P2)/R", "T"]) == [["PHY(P1)/JK"], ["CHEM(P2)/RT"]]
    assert splitter.parallel(["PHY(L)/JK"]) is None


def test_a_name_line_over_field_lines_keeps_its_course_code() -> None:
    # Design-tool timetables: course name and code on the first line, the room code line below.
    doc = [["Algebra - MTH104", "BLK A2"], ["Mechanics - PHY110", "BLK A2"], ["Circuits - EE101", "LAB 3"],
           ["Writing (ENG120)", "BLK C1"], ["Lunch"]]
    splitter = CellSplitter.fit(doc)
    assert [f.subject for f in map(splitter.split, doc[:4])] == [
        "Algebra - MTH104",
        "Mechanics - PHY110",
        "Circuits - EE101",
        "Writing (ENG120)",
    ]
    assert splitter.split(doc[2]).room == "LAB 3"


def test_a_batch_named_in_the_subject_is_the_group() -> None:
    splitter = CellSplitter.fit([["Physics Lab Grp-2"], ["Maths"]])
    fields = splitter.split(["Physics Lab Grp-2"])
    assert (fields.subject, fields.group) == ("Physics Lab Grp-2", "Grp-2")


def test_people_listed_under_the_name_are_the_teachers_and_a_room_among_them_the_room() -> None:
    # Web timetables print 'Subject' over 'Surname Name - Surname Name - Room'.
    doc = [["Chimica", "Verdi Luca"], ["Lab. Fisica", "Neri Anna - Blu Marco - Lab.Fis.2"], ["Storia", "Gialli Ada"],
           ["Inglese", "Rosa Pia"]]
    splitter = CellSplitter.fit(doc)
    fields = splitter.split(doc[1])
    assert (fields.subject, fields.teacher, fields.room) == ("Lab. Fisica", "Neri Anna - Blu Marco", "Lab.Fis.2")
    assert (splitter.split(doc[0]).subject, splitter.split(doc[0]).teacher) == ("Chimica", "Verdi Luca")


def test_a_capital_i_read_as_l_is_put_back_when_the_document_prints_the_word() -> None:
    doc = [["Ita-Sto"], ["Ita-Sto"], ["lta-Sto"], ["Informatik"], ["Informatik"], ["lnformatik"], ["lab"], ["Ilab"]]
    splitter = CellSplitter.fit(doc)
    assert splitter.split(["lta-Sto"]).subject == "Ita-Sto"
    assert splitter.split(["lnformatik"]).subject == "Informatik"
    assert splitter.split(["lab"]).subject == "lab"


def test_a_line_that_is_a_whole_subject_name_is_followed_by_the_topic_not_more_name() -> None:
    # Lesson-plan timetables: the subject on its own line, the day's topic below it.
    doc = [["History", "Inside the castle"], ["Art", "Drawing with detail"], ["Maths", "Meeting"], ["Maths", "Meeting"]]
    splitter = CellSplitter.fit(doc)
    history = splitter.split(doc[0])
    assert (history.subject, history.notes) == ("History", "Inside the castle")
    assert splitter.split(doc[2]).subject == "Maths Meeting"  # one word under it, printed so twice: a name


def test_an_ocr_variant_of_a_repeated_field_line_is_that_field() -> None:
    doc = [["Physik", "2° ano B"], ["Physik", "2° ano B"], ["Chemie", "2@ ano B"], ["Kunst", "3ª série A"]]
    splitter = CellSplitter.fit(doc)
    assert splitter.split(doc[2]).group == "2@ ano B"
    assert splitter.split(doc[3]).group == "3a série A"  # a grade and letter names a class (NFKC: ª is a)


def test_the_word_after_a_possessive_is_its_noun_not_a_room() -> None:
    splitter = CellSplitter.fit([["Children's Workshop"], ["Poet’s", "Workshop"], ["DT", "Workshop"]])
    assert splitter.split(["Children's Workshop"]).subject == "Children's Workshop"
    assert splitter.split(["Poet’s", "Workshop"]).subject == "Poet’s Workshop"
    assert splitter.split(["DT", "Workshop"]).room == "Workshop"


def test_lines_each_naming_their_own_batch_are_parallel_lessons() -> None:
    splitter = CellSplitter.fit([["Physics Lab (B1)", "Chemistry Lab (B2)"], ["Maths"]])
    assert splitter.parallel(["Physics Lab (B1)", "Chemistry Lab (B2)"]) == [["Physics Lab (B1)"], ["Chemistry Lab (B2)"]]
    assert splitter.parallel(["Physics Lab (B1)", "Ms Shah"]) is None
    assert splitter.parallel(["Lab Group 1", "Lab Group 1"]) is None


def test_fields_marked_by_their_brackets_and_course_codes_kept_in_the_subject() -> None:
    # University timetables: 'CODE - NAME' over the session kind, a faculty code in braces, a room in
    # square brackets with its kind, a batch on a line of its own.
    doc = [
        ["4102EE201 - SIG", "(Lecture)", "{QWERT}", "[Class - D-105]"],
        ["4102EE202 - NET (Lab)", "{ASDFG}", "[Lab - E-201-I]", "Batch-2"],
        ["ECE 310 - Signals", "{ZXCVB}"],
    ]
    splitter = CellSplitter.fit(doc)
    first, second, third = (splitter.split(cell) for cell in doc)
    assert (first.subject, first.teacher, first.room, first.notes) == ("4102EE201 - SIG", "QWERT", "D-105", "Lecture; Class")
    assert (second.subject, second.teacher, second.room, second.group) == ("4102EE202 - NET (Lab)", "ASDFG", "E-201-I", "Batch-2")
    assert (third.subject, third.teacher) == ("ECE 310 - Signals", "ZXCVB")


def test_cells_that_start_with_their_class_give_the_group() -> None:
    # A teacher's timetable prints the class before the subject in every cell.
    doc = [["7B History"], ["9C Geography"], ["10A History", "R12"], ["Break"]]
    splitter = CellSplitter.fit(doc, owner_kind="teacher")
    assert [(f.group, f.subject, f.room) for f in map(splitter.split, doc[:3])] == [
        ("7B", "History", None), ("9C", "Geography", None), ("10A", "History", "R12"),
    ]
    # One such name in a document of plain subjects is a name ('3D Design').
    assert CellSplitter.fit([["3D Design"], ["Maths"], ["Art"]]).split(["3D Design"]).subject == "3D Design"


def test_a_cell_of_marked_fields_only_has_no_name_but_keeps_them() -> None:
    splitter = CellSplitter.fit([["(Lecture)"], ["{ABC}"], ["Maths"]])
    assert splitter.split(["{ABC}"]).teacher == "ABC"
    assert splitter.split(["(Lecture)"]).notes == "Lecture"


@given(st.lists(st.lists(st.text(alphabet="ab AB1(){}[]/-:'\\n", max_size=14), max_size=4), max_size=6))
@settings(max_examples=300, deadline=None)
def test_the_splitter_never_fails_on_odd_cells(cells: list[list[str]]) -> None:
    splitter = CellSplitter.fit(cells)
    for cell in cells:
        splitter.split(cell)
        splitter.parallel(cell)


def test_an_abbreviated_first_line_goes_on_to_the_name_below() -> None:
    """'Lab.' alone on the first line starts the name ('Lab.' / 'Chimica organica'); a line of people
    below it is still the teachers."""
    splitter = CellSplitter(whole_first_line=True)
    fields = splitter.split(["Lab.", "Chimica organica", "Verdi Paolo"])
    assert (fields.subject, fields.teacher) == ("Lab. Chimica organica", "Verdi Paolo")
    assert splitter.split(["Lab.", "Verdi Paolo - Neri Anna"]).teacher == "Verdi Paolo - Neri Anna"


def test_a_line_of_teachers_ends_with_the_room_written_as_a_code() -> None:
    """'Name Surname - Name Surname - Lab.Fis.Nord': the coded last part is the room, even when its
    first word is no room word; a stray colon after a name (OCR) does not hide the name."""
    splitter = CellSplitter(whole_first_line=True)
    fields = splitter.split(["Fisica", "Bruni: Carla - Conti Marco - Aule Fis.Nord"])
    assert (fields.subject, fields.teacher, fields.room) == ("Fisica", "Bruni Carla - Conti Marco", "Aule Fis.Nord")
    plain = splitter.split(["Fisica", "Bruni Carla - Conti Marco - Aule Nord"])
    assert plain.room is None  # no code: nothing shows the last part is a place


def test_teacher_codes_with_accented_capitals() -> None:
    """Spanish, Portuguese and French schools code teachers by their names' first letters, accents kept."""
    assert is_code("SÁN") and is_code("LÓP") and is_code("ÇEL")
    cells = [["Música SÁN", "B238"], ["Historia ROM", "Gimnasio"], ["Biología LÓP", "Lab 2"], ["Inglés MOL", "Lab 4"]]
    fields = CellSplitter.fit(cells * 2).split(cells[0])
    assert (fields.subject, fields.teacher, fields.room) == ("Música", "SÁN", "B238")


def test_a_titled_name_after_the_subject_on_one_line_is_the_teacher() -> None:
    """A cell's teacher line run into its subject line (a photo OCR'd as one line, a narrow cell): the
    titled name at the end of the line is the teacher, in any language; a title alone does not split."""
    from timetable_platform.reading.cells import CellSplitter

    splitter = CellSplitter()
    got = splitter.split(["Geografia Prof.ssa Moretti", "Lab 4"])
    assert (got.subject, got.teacher, got.room) == ("Geografia", "Prof.ssa Moretti", "Lab 4")
    got = splitter.split(["Chemistry Mrs Anne Hale R7"])
    assert (got.subject, got.teacher, got.room) == ("Chemistry", "Mrs Anne Hale", "R7")
    assert splitter.split(["Drawing Dr"]).subject == "Drawing Dr"
    # A narrow cell wraps the name after its title: the two lines are one teacher.
    got = splitter.split(["Biologia", "Prof.ssa", "Moretti", "Lab 4"])
    assert (got.subject, got.teacher, got.room) == ("Biologia", "Prof.ssa Moretti", "Lab 4")


def test_a_name_printed_again_in_a_merged_cell_is_one_name() -> None:
    """A double lesson prints its name in each row it spans, the second cut short by the cell's edge:
    the name counts once. A name that repeats a word of its own ('Art and Art History') is kept."""
    from timetable_platform.reading.cells import CellSplitter

    splitter = CellSplitter()
    assert splitter.split(["Redes de datos", "Redes de"]).subject == "Redes de datos"
    assert splitter.split(["Chemie Chemie"]).subject == "Chemie"
    assert splitter.split(["Art and Art History"]).subject == "Art and Art History"


def test_a_room_named_by_a_room_word_and_codes_is_a_room() -> None:
    """'Lab KIM 3', 'Room B 12': the codes after a room word name the room, however the codes look."""
    splitter = CellSplitter.fit(
        [["Chemistry", "Lab KIM 3"], ["Biology", "Room B 12"], ["Physics", "Lab 3 MR"], ["Art", "Room 12 JSM"]]
    )
    assert splitter.split(["Chemistry", "Lab KIM 3"]).room == "Lab KIM 3"
    assert splitter.split(["Biology", "Room B 12"]).room == "Room B 12"
    # A code after the room's number is another field.
    fields = splitter.split(["Chemistry", "Lab 3 MR"])
    assert (fields.room, fields.teacher) == ("Lab 3", "MR")


def test_lone_numbers_beside_named_rooms_are_teacher_codes_across_the_document() -> None:
    """A document printing a room by name and a lone number in the same cells uses the numbers as
    teacher codes (the room is already there), in its cells without a room too; where a lone number
    stands beside a letter teacher code, it is the room."""
    numbered = [["Physics", "Lab West 2", "17"], ["Chemistry", "Lab West 1", "9"], ["Art", "9"], ["Music", "17"]]
    splitter = CellSplitter.fit(numbered)
    physics = splitter.split(numbered[0])
    assert (physics.room, physics.teacher) == ("Lab West 2", "17")
    art = splitter.split(numbered[2])
    assert (art.teacher, art.room) == ("9", None)
    lettered = [["Physics", "KOW", "117"], ["Chemistry", "Lab West 1", "ABE"], ["Art", "TAN", "9"]]
    art = CellSplitter.fit(lettered).split(lettered[2])
    assert (art.teacher, art.room) == ("TAN", "9")


def test_a_room_number_wrapped_onto_the_next_line_rejoins_its_room() -> None:
    """'Lab West' / '1' in a narrow cell is the room 'Lab West 1' the document prints whole elsewhere."""
    cells = [["Physics", "Lab West 1", "17"], ["Physics", "Lab West", "1", "17"]]
    fields = CellSplitter.fit(cells).split(cells[1])
    assert (fields.room, fields.teacher) == ("Lab West 1", "17")


def test_a_word_printed_letter_spaced_on_one_line_is_one_word() -> None:
    """Break bands print their word spaced out ('B R E A K'), typed with spaces or by letter-spacing
    that a text layer or OCR reads as spaces."""
    from timetable_platform.reading.cells import CellSplitter

    splitter = CellSplitter.fit([["R E C E S S"], ["Maths", "Mr Smith", "R12"]], owner_kind=None, language="en")
    fields = splitter.split(["R E C E S S"])
    assert (fields.subject, fields.kind) == ("RECESS", "break")
    assert splitter.split(["A B"]).subject == "A B"  # two letters are more likely two labels


def test_a_class_line_ocr_misread_is_still_the_class() -> None:
    """Teacher timetables print the class alone on a cell's first line. OCR reads a B as an 8 or an 8
    as a B now and then ('28', 'BC'): where most cells start with a class, such a line is the class
    whose shape the document prints, not part of the subject."""
    cells = [
        ["7B", "Science", "R12"], ["9A", "Drawing", "R4"], ["7B", "Science", "R12"], ["11C", "Latin", "R2"],
        ["28", "Science", "R12"], ["BC", "Latin", "R2"], ["9A", "Drawing", "R4"],
    ]
    splitter = CellSplitter.fit(cells)
    fields = splitter.split(["28", "Science", "R12"])
    assert (fields.subject, fields.room, fields.group) == ("Science", "R12", "2B")
    assert splitter.split(["BC", "Latin", "R2"]).group == "8C"
    aged = CellSplitter.fit([["12A", "Latin", "R2"], ["12A", "Drama", "R4"], ["124", "Latin", "Lab 4"], ["12A", "Art", "R1"]])
    assert (aged.split(["124", "Latin", "Lab 4"]).subject, aged.split(["124", "Latin", "Lab 4"]).group) == ("Latin", "12A")
    # A short subject on the first line is no class: no look-alike reading has a printed class's shape.
    assert splitter.split(["Bio", "R12"]).subject == "Bio"
    # A class misread the same way in most cells ('108' for '10S') still marks the document's shape.
    mostly = CellSplitter.fit([["108", "Latin", "R2"], ["108", "Drama", "R4"], ["108", "Latin", "R2"], ["7B", "Art", "R1"]])
    assert mostly.split(["108", "Latin", "R2"]).group == "10B"
    # In a document whose cells do not start with classes, a number stays where it was read.
    plain = CellSplitter.fit([["Science", "R12"], ["Latin", "R2"], ["28", "Drawing"], ["Drawing", "R4"]])
    assert plain.split(["28", "Drawing"]).group is None


def test_a_break_word_ocr_misread_by_one_letter_is_still_a_break() -> None:
    """'Registraton', 'Lunchtlme': one letter off a long break or registration word. Short words and
    lesson names stay lessons."""
    assert classify_kind("Registraton") == "other"
    assert classify_kind("Lunchtlme") == "break"
    assert classify_kind("Chemistry") == "lesson"
    assert classify_kind("Brake") == "lesson"


def test_a_surname_with_initials_is_a_teacher_and_initials_before_a_subject_are_an_acronym() -> None:
    """University and many national timetables name teachers by initials and surname, titled or not."""
    for name in ("Dr. A. Sharma", "R. Gupta", "Prof. R.K. Singh", "Ms K. Jones", "Novák J."):
        assert is_teacher_name(name), name
    for text in ("U.S. History", "A.I. Lab", "P. E.", "Sharma"):
        assert not is_teacher_name(text), text


def test_cells_of_course_code_subjects_named_teachers_and_rooms_and_batch_cells() -> None:
    """'Subject (CODE)' / teacher / room cells keep the course code in the subject; a cell that opens
    with a batch's label ('Group 1') is that batch's lesson, its name and fields on the lines below."""
    cells = [
        ["Engineering Physics (BAS101)", "Dr. A. Sharma", "A-309"],
        ["Maths (BAS103)", "R. Gupta", "A-309"],
        ["English (BAS104)", "S. Rao", "A-310"],
        ["Group 1", "Physics Lab (BAS151)", "Lab 2"],
    ]
    splitter = CellSplitter.fit(cells, language="en")
    physics = splitter.split(cells[0])
    assert (physics.subject, physics.teacher, physics.room) == ("Engineering Physics (BAS101)", "Dr. A. Sharma", "A-309")
    maths = splitter.split(cells[1])
    assert (maths.subject, maths.teacher, maths.room, maths.notes) == ("Maths (BAS103)", "R. Gupta", "A-309", None)
    lab = splitter.split(cells[3])
    assert (lab.subject, lab.room, lab.group) == ("Physics Lab (BAS151)", "Lab 2", "Group 1")


def test_one_short_code_atop_nearly_every_cell_is_the_class_not_part_of_the_subject() -> None:
    """aSc-style cells print the class in a corner above the subject; OCR may misread it the same way
    in every cell ('28' for '2B'), a bare number that reads as no class. Atop nearly every cell, it is."""
    cells = [
        ["28", "Sport", "Fr Keller", "Lab 3"],
        ["28", "Mathe", "Fr. Krause", "S204"],
        ["28", "Deutsch", "Fr. Wagner", "116"],
        ["28", "Englisch", "Fr Muller", "R145"],
        ["Biologie", "Fr Brandt", "Bibliothek"],
    ]
    splitter = CellSplitter.fit(cells, language="de")
    sport = splitter.split(cells[0])
    assert (sport.subject, sport.teacher, sport.room, sport.group) == ("Sport", "Fr Keller", "Lab 3", "28")
    rooms = CellSplitter.fit([["R101", "Maths", "Mr Smith"], ["B12", "Art", "Ms Jones"], ["R101", "PE", "Mr Lee"]] * 2)
    assert rooms.split(["B12", "Art", "Ms Jones"]).group is None  # codes that change are no class


def test_below_a_class_code_atop_the_cells_an_upper_case_subject_is_still_the_subject() -> None:
    """The class atop every cell puts each subject on the second line, where teacher codes print in
    other layouts: capitals there are learnt as subjects all the same ('IPA' over teacher 'WIJ')."""
    cells = [
        ["8C", "IPA", "A-08", "WIJ"],
        ["8C", "IPS", "LES", "A-07"],
        ["8C", "Matematika", "SET", "A-17"],
        ["8C", "PJOK", "170", "NUG"],
        ["8C", "IPA", "WIJ", "A-08"],
    ]
    splitter = CellSplitter.fit(cells, language="id")
    got = [(f.subject, f.teacher, f.room, f.group) for f in map(splitter.split, cells)]
    assert got[0] == ("IPA", "WIJ", "A-08", "8C") and got[1] == ("IPS", "LES", "A-07", "8C")
    assert got[3] == ("PJOK", "NUG", "170", "8C")
    # A cell prints its class once: under it, capitals that read as a class with a look-alike swapped
    # ('IPA' as '1PA', shaped as the '1OS' OCR made of '10S' in some cells) are the subject.
    misread = [["10S", "IPA", "R147", "NUG"], ["10S", "PKn", "SET", "Aula"], ["1OS", "IPS", "S105", "SAN"]] * 2
    splitter = CellSplitter.fit(misread, language="id")
    ipa = splitter.split(["10S", "IPA", "R147", "NUG"])
    assert (ipa.subject, ipa.teacher, ipa.group) == ("IPA", "NUG", "10S")
    # A 6 read as a b ('ba' for '6a') is the class as well.
    sixth = CellSplitter.fit([["6a", "Chemie", "KEL", "S120"], ["6a", "Musik", "WEB", "S102"]] * 3, language="de")
    chemie = sixth.split(["ba", "Chemie", "KEL", "S120"])
    assert (chemie.subject, chemie.group) == ("Chemie", "6a")


def test_a_first_line_ending_in_a_joining_word_is_no_whole_name() -> None:
    """'Física y' over 'Química': OCR adds a stray mark or a corner code to the second line in some cells
    ('Química mí', 'Química 241'), so the lines after it differ, as a lesson plan's descriptions do. A
    line that ends in 'y' ('and') is not a whole name all the same: the name goes on."""
    cells = [
        ["9B", "Física y", "Química mí"],
        ["9B", "Física y", "Química"],
        ["9B", "Física y", "Química 241"],
        ["9B", "Historia", "A-12"],
        ["9B", "Lengua", "A-12"],
        ["9B", "Lengua", "A-14"],
    ]
    splitter = CellSplitter.fit(cells, language="es")
    assert splitter.split(cells[0]).subject.startswith("Física y Química")


def test_a_course_code_in_brackets_after_a_name_is_part_of_the_name() -> None:
    """University exports print the course code in brackets after the name ('Engineering Physics
    (PHY101)'), often under the room code of the cell's corner: the code is the course's, not a room,
    whether the cell has its room or not. A room word and number in brackets stays the room."""
    from timetable_platform.reading.cells import CellSplitter

    splitter = CellSplitter.fit([["C12", "Linear Algebra (MAT204)", "JRK"], ["D7", "Organic Chemistry (CHM118)", "PLT"]])
    assert splitter.split(["Linear Algebra (MAT204)"]).subject == "Linear Algebra (MAT204)"
    fields = splitter.split(["D7", "Organic Chemistry (CHM118)", "PLT"], styles=["small", None, "small"])
    assert (fields.subject, fields.room, fields.teacher) == ("Organic Chemistry (CHM118)", "D7", "PLT")
    assert CellSplitter().split(["Drawing (Room 204)"]).room == "Room 204"
    assert CellSplitter().split(["Drawing (B204)"]).room == "B204"


def test_a_document_printing_rooms_atop_its_cells_reads_a_room_word_there_as_the_room() -> None:
    """An export prints each lesson's room alone in the cell's top corner, over the name: where most
    cells open so, a first line that could name a lesson ('Gym', 'Library') is still the room, and the
    cell's batch label beside it is its group. Where cells open with the name, nothing changes."""
    from timetable_platform.reading.cells import CellSplitter

    cells = [["B12", "Geometry (MTH110)", "KLR"], ["A-04", "Poetry (LIT201)", "DSM"], ["115", "Botany (BIO150)", "PRW"],
             ["B1O", "Geometry (MTH110)", "KLR"], ["Gym", "Group 2", "Poetry (LIT201)", "DSM"]]  # fmt: skip
    fields = CellSplitter.fit(cells).split(cells[-1])
    assert (fields.subject, fields.room, fields.group, fields.teacher) == ("Poetry (LIT201)", "Gym", "Group 2", "DSM")
    named_first = [["Gym", "Mr Hale"], ["Maths", "Mrs Oduya"], ["Music", "Ms Brandt"], ["Gym", "Mr Hale"]]
    assert CellSplitter.fit(named_first).split(["Gym", "Mr Hale"]).subject == "Gym"


def test_a_course_code_wrapped_onto_its_own_line_stays_with_the_name() -> None:
    """A long name wraps its bracketed course code onto a line of its own ('Geography' / '(GEO149)'):
    still the name's code, not the room, which the corner prints above it."""
    from timetable_platform.reading.cells import CellSplitter

    cells = [["A-04", "Geography", "(GEO149)", "NKL"], ["C12", "Linear Algebra (MAT204)", "JRK"],
             ["D7", "Organic Chemistry", "(CHM118)", "PLT"], ["A-04", "Poetry (LIT201)", "DSM"]]  # fmt: skip
    fields = CellSplitter.fit(cells).split(cells[0], styles=["small", None, None, "small"])
    assert (fields.subject, fields.room, fields.teacher) == ("Geography (GEO149)", "A-04", "NKL")


def test_two_teacher_codes_in_a_corner_are_the_teachers_as_printed() -> None:
    """An export's bottom corner prints two teachers' codes for a shared lesson ('JRK / NKL'), in the
    corner's small print: the teachers, as printed, not a note."""
    from timetable_platform.reading.cells import CellSplitter

    cells = [["C12", "Geometry", "JRK"], ["D7", "Botany", "NKL"], ["C12", "Poetry", "JRK / NKL"], ["D7", "Botany", "NKL"]]
    fields = CellSplitter.fit(cells).split(cells[2], styles=["small", None, "small"])
    assert (fields.subject, fields.teacher, fields.notes) == ("Poetry", "JRK / NKL", None)


def test_a_misread_batch_label_is_the_label_the_document_prints() -> None:
    """A lab batch's label is small print, and a photo's OCR misreads a letter or two of it ('Grovp 1'
    for 'Group 1'): where the document prints the label whole elsewhere, the line is that batch, not more
    of the name below it."""
    from timetable_platform.reading.cells import CellSplitter

    cells = [["R12", "Group 1", "Botany (BIO150)", "PRW"], ["R7", "Group 2", "Zoology (BIO160)", "HNT"],
             ["R12", "Group 1", "Geometry (MTH110)", "KLR"], ["R12", "Grovp 1", "Botany (BIO150)", "PRW"]]  # fmt: skip
    fields = CellSplitter.fit(cells).split(cells[-1])
    assert (fields.subject, fields.group) == ("Botany (BIO150)", "Group 1")
    assert CellSplitter.fit(cells).split(["R12", "Gravel", "PRW"]).subject == "Gravel"


def test_a_teacher_code_misread_in_lower_case_is_still_the_teacher() -> None:
    """Small capitals in a photo's corner come out of OCR partly lower case ('kL' for 'KL'): where the
    document prints the code as a teacher's elsewhere, the line is that teacher, not more of the name."""
    from timetable_platform.reading.cells import CellSplitter

    cells = [["R4", "Botany (BIO150)", "kL"], ["R5", "Poetry (LIT201)", "KL"], ["R6", "Geometry (MTH110)", "DSM"],
             ["R4", "Zoology (BIO160)", "PRW"], ["R5", "Botany (BIO150)", "KL"]]  # fmt: skip
    fields = CellSplitter.fit(cells).split(cells[0])
    assert (fields.subject, fields.teacher) == ("Botany (BIO150)", "kL")
