"""Split a timetable cell's text into subject, teacher, room, group and notes.

The rules read what the document itself shows. ``CellSplitter.fit`` looks at every cell of one
document first: which words it prints whole (so 'Engli' + 'sh' can be joined into a word the
document uses elsewhere), which short upper-case codes stand alone on a teacher line (teacher
codes such as 'OKA') and which stand first in a cell (subject codes such as 'PE', 'TTRS').
``split`` then reads one cell, keeping every name as printed.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from timetable_platform.domain.days import join_spaced_letters
from timetable_platform.domain.model import Kind
from timetable_platform.domain.text import fold, nfkc, tidy_whitespace
from timetable_platform.domain.times import find_times, strip_times
from timetable_platform.reading.subjects import WHOLE_SUBJECT_NAMES
from timetable_platform.reading.vocabulary import (
    _NOT_ROOM_WORDS,
    _ROOM_CODES_OK,
    BREAK_TERMS,
    COMMON_WORDS,
    FUNCTION_WORDS,
    OTHER_TERMS,
    ROOM_SUFFIXES,
    ROOM_WORDS,
    SUBJECT_CODES,
    TITLE_WORDS,
    misread_slot_term,
)

# --- kind -----------------------------------------------------------------------------------------


def _term_hits(text: str, terms: frozenset[str]) -> bool:
    folded = " " + re.sub(r"[^\w-]+", " ", fold(text)).strip() + " "
    return any(f" {term} " in folded for term in terms)


def classify_kind(text: str, language: str | None = None) -> Kind:
    """'break' for breaks and meals, 'other' for registration/assembly/tutor time..., else 'lesson'.

    ``language`` is accepted for symmetry with the other parsers; the word lists cover all
    supported languages at once because a school's words rarely collide across them.
    """
    del language
    if not text.strip():
        return "lesson"
    text = join_spaced_letters(text)
    if _term_hits(text, OTHER_TERMS):
        return "other"
    if _term_hits(text, BREAK_TERMS):
        return "break"
    return _misread_term_kind(text)


# A long word one letter off a break or registration word is that word as OCR misread it
# ('Registraton', 'Mlddagpauze'); shorter words are too close to lesson names to tell.
_MISREAD_TERM_LENGTH = 7


@functools.cache
def _misread_term_kind(text: str) -> Kind:
    word = fold(text).strip(" .:")
    if len(word) < _MISREAD_TERM_LENGTH or not word.isalpha():
        return "lesson"
    found = misread_slot_term(word, _MISREAD_TERM_LENGTH)
    return found[0] if found else "lesson"  # type: ignore[return-value]


# --- field patterns -------------------------------------------------------------------------------

_NAME_WORD = r"[A-ZÀ-Þ][^\W\d_]*(?:['’\-][^\W\d_]+)*"
# Lower-case particles before a surname ('Dhr. de Wit', 'Herr von Arx', 'Sra. de la Fuente').
_NAME_PARTICLES = r"(?:(?:de|van|von|der|den|ter|ten|te|zu|vom|di|da|du|del|della|dos|das|la|le|el|al|bin|binti)\s+){0,3}"
# Initials with their dots ('A.', 'R.K.').
_INITIALS = r"(?:[A-ZÀ-Þ]\.\s?){1,3}"
_TEACHER_TITLED = re.compile(
    rf"^(?:{TITLE_WORDS})\.?\s+(?:{_INITIALS})?{_NAME_PARTICLES}{_NAME_WORD}(?:\s+{_NAME_PARTICLES}{_NAME_WORD})?\.?$"
)
# A surname with initials before or after it and no title ('R. Gupta', 'Novák J.'):
# the way staff lists and university timetables name teachers in many countries.
_INITIALLED_NAME = re.compile(rf"^{_INITIALS}{_NAME_WORD}$|^{_NAME_WORD}\s(?:[A-ZÀ-Þ]\.){{1,3}}$")
# 2-4 capital letters, the usual teacher code ('OKA', 'MD'); subjects share the shape, see below.
_CODE = re.compile(r"^[A-ZÀ-ÖØ-Þ]{2,4}$")  # capitals with accents too: SÁN, LÓP, ÇEL
# Room codes: up to four letters, optional dash or space, digits ('R101', 'A-12', 'Lab 2', 'NW1', 'M2'),
# or building, floor and room ('B2.04').
_ROOM_CODE = re.compile(r"^[A-Za-zÄÖÜäöü]{1,4}[\-\s]?\d{1,4}(?:\.\d{1,3})?[A-Za-z]?$")
_WORD_NUMBER = re.compile(r"^[^\W\d_]{2,12}\s\d{1,4}[A-Za-z]?$")
_ROOM_NUMBER = re.compile(r"^\d{1,4}[A-Za-z]?$")
_GROUP = re.compile(
    r"^(?:(?:Year|Yr|Y|Class|Klasse|Kl|Classe|Clase|Classe|Klas|Form|Grade|Gr)\.?\s?)?\d{1,2}\s?[A-Za-z]{0,2}$|"
    r"^(?:Year|Yr|Y|Class|Klasse|Kl|Classe|Clase|Klas|Form|Grade|Gr)\.?\s?\d{1,2}\s?[A-Za-z]{0,2}$|"
    r"^Y\d{1,2}[A-Za-z]?$|^\d{1,2}/\d{1,2}$|^\d{1,2}[A-Za-z]{1,2}\d?$",
    re.IGNORECASE,
)
_WITH_TEACHER = re.compile(r"^(?P<subject>.+?)\s+(?:with|mit|avec|con|met|com)\s+(?P<teacher>\S.*)$", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*(?:/|·|•|\||;|,|\s[-–—]\s)\s*")
_PAREN = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
# 'PHY(L)/JK', 'Chem/ RT', 'BIO(L)/' (the code wrapped onto the next line): a name, a slash, a short code.
_SLASH_FIELD = re.compile(r"^(?P<name>[^/]*[^\s/])\s*/\s*(?P<code>[A-Z][A-Za-z0-9]{0,4})?$")
# The same with the slash lost after a bracketed mark ('PHY(L) JK', 'PHY(L)JK').
_SLASH_LOST = re.compile(r"^(?P<name>[^/\s()]+\([A-Za-z0-9]{1,3}\))\s*(?P<code>[A-Z][A-Za-z0-9]{0,4})$")
# Lab and tutorial batches named inside a subject: 'Lab Grp-3', 'Group 2', 'Batch-B', 'CHEM(P2)'.
_GROUP_LABEL = r"(?:grp|group|gruppe|groupe|grupo|gruppo|groep|batch|kelompok)[\s\-.]*[A-Za-z0-9]{1,3}"
_GROUP_IN_NAME = re.compile(rf"\b(?P<label>{_GROUP_LABEL})\b|\((?P<batch>[A-Z]\d)\)", re.IGNORECASE)
# A line that is only a batch's label ('Group 1', 'Batch B'): the cell that starts with it is that
# batch's lesson, its name on the lines below.
_GROUP_LINE = re.compile(rf"{_GROUP_LABEL}[:.]?", re.IGNORECASE)


def is_teacher_name(text: str) -> bool:
    """A titled name ('Mr Smith', 'Dr. A. Sharma', 'Herr Klein', 'Fr. Busch', 'Mme Dubois') or a surname
    with initials ('R. Gupta', 'Novák J.')."""
    text = text.strip()
    if _TEACHER_TITLED.match(text):
        return True
    if not _INITIALLED_NAME.match(text):
        return False
    # 'U.S. History', 'A.I. Lab': initials before a subject or a room word are an acronym.
    word = fold(re.sub(r"(?:[^\W\d_]\.\s?)+", "", text)).strip(" .")
    return word not in WHOLE_SUBJECT_NAMES and word not in ROOM_WORDS


def is_code(text: str) -> bool:
    return bool(_CODE.match(text.strip()))


# A class named by its grade and letter: '2ª série C', '2º ano A', '1er curso C', 'Kelas 10 B', '5th Grade A'.
_GRADE_GROUP = re.compile(
    r"^(?:\d{1,2}\s?(?:[ºª°o*.]|st|nd|rd|th|er|e|a)?\s?(?:s[ée]rie|ano|a[ñn]o|curso|anno|grade|year|klasse|classe|kelas)"
    r"|(?:kelas|klasse|classe|grade|year|turma)\s?[IVX\d]{1,4})\s?[-–]?\s?[A-Za-z]?\d?$",
    re.IGNORECASE,
)


def is_group(text: str) -> bool:
    """A printed class: '7B', '10E', 'Y9', '4M', '5a', 'Year 10', 'Klasse 5a', '2ª série C', 'Kelas X-B'."""
    t = text.strip()
    if _GRADE_GROUP.match(t) or _GROUP_IN_NAME.fullmatch(t):
        return True
    if not _GROUP.match(t):
        return False
    # A bare number is a room or a period, not a class; '1.15' style numbers never match.
    return not t.isdigit()


# A course code: letters, then three digits or more ('PHY110', 'CS 2041'), not a room word and its number.
_COMPACT_CODE = re.compile(r"(?P<letters>[A-Za-z]{2,5})\s?\d{3,6}[A-Za-z]?")


def _course_code(text: str) -> bool:
    """A course code in brackets after a name belongs to it ('Engineering Physics (PHY101)'); 'Room 101' and
    'Lab 204' are places, and one letter and digits ('B107') is a room."""
    m = _COMPACT_CODE.fullmatch(text.strip())
    return m is not None and fold(m.group("letters")) not in ROOM_WORDS


def names_batch(text: str) -> bool:
    """A line naming a lab or tutorial batch: 'Group 1', 'Batch-B', 'Physics Lab Grp-3', 'CHEM(P2)'."""
    return _GROUP_IN_NAME.search(text) is not None


def is_room(text: str) -> bool:
    """A printed room: 'R101', 'A-12', 'Lab 2', 'Room 5', 'Sports Hall', 'Raum 12', 'Salle 3', 'Aula', '208'."""
    t = text.strip().strip(".")
    if not t or len(t) > 30 or _GROUP_IN_NAME.search(t):
        return False  # 'Grp-2', 'Batch 1' name a group, though shaped like a room code
    first_word = re.match(r"[^\W\d_]+", t)
    first = fold(first_word.group(0)) if first_word else ""
    if _ROOM_NUMBER.match(t):
        return not is_group(t) or t.isdigit()
    if _ROOM_CODE.match(t):
        return not (first in _NOT_ROOM_WORDS or is_group(t))
    if re.search(r"[·•|/;,()]", t):
        return False
    raw_tokens = re.findall(r"[^\W\d_]+", t)
    tokens = [fold(w) for w in raw_tokens]
    if not tokens or len(tokens) > 3:
        return False
    # 'HAD Sports Hall' is a teacher code and a room, not one room; 'DT Workshop' is one room.
    if any(_CODE.match(w) and w not in _ROOM_CODES_OK and fold(w) not in ROOM_WORDS for w in raw_tokens):
        return False
    if any(tok in ROOM_WORDS for tok in tokens):
        return True
    # German compounds: 'Musiksaal', 'Kunstraum', 'PC-Raum', 'Turnhalle'.
    return any(tok.endswith(ROOM_SUFFIXES) and len(tok) > 4 for tok in tokens) and len(tokens) <= 2


FieldName = str  # 'subject' | 'teacher' | 'room' | 'group' | 'notes'


@dataclass
class CellFields:
    subject: str
    teacher: str | None = None
    room: str | None = None
    group: str | None = None
    notes: str | None = None
    kind: Kind = "lesson"


@dataclass
class _Parsed:
    subject_parts: list[str] = field(default_factory=list)
    teacher: str | None = None
    room: str | None = None
    group: str | None = None
    # Blocks of note text; consecutive note lines join into one block.
    notes: list[list[str]] = field(default_factory=list)
    closed: bool = False  # a field was seen after the subject: later plain text is a note
    last_note_index: int = -2

    def note(self, text: str, index: int, *, new_block: bool) -> None:
        text = text.strip()
        if not text:
            return
        if self.notes and not new_block and index == self.last_note_index + 1:
            self.notes[-1].append(text)
        else:
            self.notes.append([text])
        self.last_note_index = index

    def put(self, name: FieldName, value: str, index: int = -1) -> None:
        value = value.strip()
        if not value:
            return
        if name == "subject":
            if self.closed and self.subject_parts:
                self.note(value, index, new_block=False)
            else:
                self.subject_parts.append(value)
            return
        if name == "notes":
            self.note(value, index, new_block=True)
            return
        current = getattr(self, name)
        if current is None:
            setattr(self, name, value)
        elif name == "teacher" and value not in current:
            setattr(self, name, f"{current}, {value}")
        else:
            self.note(value, index, new_block=True)
        if self.subject_parts:
            self.closed = True


_WORD_CHARS = re.compile(r"[^\W\d_]+")
# The part of a course numbered in Roman figures ('Analysis II', 'Chemistry IV').
_ROMAN_NUMERAL = re.compile(r"I{1,3}|IV|VI{0,3}|IX|XI{0,2}")


class CellSplitter:
    """Splits cells of ONE document into fields, using what the whole document prints."""

    def __init__(
        self,
        *,
        vocabulary: frozenset[str] = frozenset(),
        teacher_codes: frozenset[str] = frozenset(),
        subject_codes: frozenset[str] = frozenset(),
        rooms: frozenset[str] = frozenset(),
        names: frozenset[str] = frozenset(),
        owner_kind: str | None = None,
        language: str | None = None,
        slash_role: FieldName | None = None,
        slash_codes: frozenset[str] = frozenset(),
        whole_first_line: bool = False,
        word_counts: Counter[str] | None = None,
        field_lines: dict[str, FieldName] | None = None,
        leading_groups: bool = False,
        numbered_teachers: bool = False,
        coded_rooms: frozenset[str] = frozenset(),
        first_line_groups: frozenset[str] | None = None,
        shared_codes: frozenset[str] = frozenset(),
        first_line_rooms: bool = False,
        batch_labels: Counter[str] | None = None,
    ) -> None:
        # Batch labels the document prints whole on lines of their own ('Group 1', 'Batch B'), to know
        # them again when OCR misreads a letter or two of their small print ('Groep 2', 'Growp 1').
        self.batch_labels = batch_labels or Counter()
        # Most multi-line cells print their room alone atop the name (an export's top-left corner): a
        # first line over a name is then the room, even a word that could name a lesson ('Gym').
        self.first_line_rooms = first_line_rooms
        # Codes printed after two names or more ('Statistics - INM200', 'Biology - INM200'): a course
        # code names one course, so a code shared by several names is where they are taught.
        self.shared_codes = shared_codes
        # Most multi-line cells print their class alone on the first line ('7B' / 'History' / 'R12'):
        # the classes read so, or None when the document's cells are not printed that way.
        self.first_line_groups = first_line_groups
        # The document prints teacher codes as bare numbers ('LAB 2' and '21' in one cell): a lone
        # number below the subject is then a teacher, not a room.
        self.numbered_teachers = numbered_teachers
        # Rooms the document prints whole as a room word and codes ('LAB TJKT 2'), to rejoin a wrapped one.
        self.coded_rooms = coded_rooms
        # Most cells start with the class they are taught to ('7B History', '10A Maths'): teacher
        # timetables and room timetables print them so.
        self.leading_groups = leading_groups
        self.word_counts = word_counts or Counter()
        # Field lines the document prints in two cells or more (a class, a room), and their field.
        self.field_lines = field_lines or {}
        # The field a short code after a slash is in this document ('PHY(L)/JK': teacher), when most
        # cells print one.
        self.slash_role = slash_role
        self.slash_codes = slash_codes
        # Most multi-line cells print the name on the first line and only fields below it: the first
        # line is then the name as printed, codes and all ('Algebra - MTH104' / 'BLK A2').
        self.whole_first_line = whole_first_line
        self.vocabulary = vocabulary
        self.rooms = rooms
        self.names = names
        self.teacher_codes = teacher_codes
        self.subject_codes = subject_codes | SUBJECT_CODES
        self.owner_kind = owner_kind
        self.language = language

    # --- learning -------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        cells: Sequence[Sequence[str]],
        *,
        owner_kind: str | None = None,
        language: str | None = None,
    ) -> CellSplitter:
        """Learn the document's words and codes from all its cells (each cell = its text lines)."""
        first_line_groups = _first_line_groups(cells)
        if first_line_groups is not None:
            # The class code atop the cells is no part of what follows: the name is the line below it.
            cells = [_below_corner_code(cell, first_line_groups) for cell in cells]
        vocabulary: Counter[str] = Counter()
        first_codes: Counter[str] = Counter()
        later_codes: Counter[str] = Counter()
        rooms: set[str] = set()
        continuations: dict[str, set[str]] = {}
        for cell in cells:
            lines = _cleaned(cell)
            lines = [x for x in lines if x]
            named = [x for x in (strip_times(x) if find_times(x) else x for x in lines) if x]
            if named:
                after = "" if len(named) == 1 or _looks_like_fields(named[1]) else fold(named[1])
                continuations.setdefault(fold(named[0]), set()).add(after)
            for line in lines[1:]:
                rooms.update(tok for tok in re.split(r"[\s·•|/,;()]+", line) if tok and _ROOM_CODE.match(tok))
            for i, line in enumerate(lines):
                found = _WORD_CHARS.findall(line)
                # Words at a break followed by a lower-case line may be halves of one word: not evidence.
                if i + 1 < len(lines) and lines[i + 1][:1].islower() and found:
                    found = found[:-1]
                if line[:1].islower() and i > 0 and found:
                    found = found[1:]
                for word in found:
                    if len(word) >= 2:
                        vocabulary[word.casefold()] += 1
            for i, line in enumerate(lines):
                segments = [s for s in _SEPARATORS.split(line) if s]
                for j, seg in enumerate(segments):
                    toks = seg.split()
                    for k, tok in enumerate(toks):
                        if not is_code(tok) or (
                            k > 0 and _ROMAN_NUMERAL.fullmatch(tok) and _WORD_CHARS.fullmatch(toks[k - 1])
                        ):
                            continue
                        if i == 0 and j == 0 and tok == seg.split()[0]:
                            first_codes[tok] += 1
                        else:
                            later_codes[tok] += 1
        slash_role, whole_first_line, slash_codes = _document_cell_shape(cells)
        field_lines: Counter[tuple[str, FieldName]] = Counter()
        probe = cls(vocabulary=frozenset(vocabulary), owner_kind=owner_kind, language=language)
        for cell in cells:
            for line in _cleaned(cell)[1:]:
                role = probe.classify(line.strip(" -–—·•|,;"), subject_position=False) if line else None
                if role is not None:
                    field_lines[(line, role)] += 1
        teacher_codes = frozenset(c for c, n in later_codes.items() if n > first_codes.get(c, 0))
        subject_codes = frozenset(c for c, n in first_codes.items() if n >= later_codes.get(c, 0))
        return cls(
            vocabulary=frozenset(vocabulary),
            teacher_codes=teacher_codes - SUBJECT_CODES,
            subject_codes=subject_codes,
            rooms=frozenset(rooms),
            # A first line is a whole name when the document follows it with different descriptions
            # ('English' / 'Sentence Stack 5', 'English' / 'Experience Day'), not always the same
            # word ('Morning' / 'Break' is one name over two lines).
            names=frozenset(
                n
                for n, after in continuations.items()
                if len(after) >= 2 and any(_describes(a) for a in after) and not _OPEN_END.search(n)
            ),
            owner_kind=owner_kind,
            language=language,
            slash_role=slash_role,
            slash_codes=slash_codes,
            whole_first_line=whole_first_line,
            word_counts=vocabulary,
            field_lines={line: role for (line, role), n in field_lines.items() if n >= 2},
            leading_groups=_leading_groups(cells),
            numbered_teachers=_numbered_teachers(cells),
            coded_rooms=frozenset(
                x for cell in cells for x in _cleaned(cell[1:]) if _room_led(x)
            ),
            first_line_groups=first_line_groups,
            shared_codes=_shared_tail_codes(cells),
            first_line_rooms=_first_line_rooms(cells),
            batch_labels=Counter(
                x for cell in cells for x in _cleaned(cell) if _GROUP_LINE.fullmatch(x)
            ),
        )

    # --- reading one cell -----------------------------------------------------------------

    def _teachers_line(self, line: str) -> bool:
        """Whether ``line`` is several teachers, every part between its separators one ('MSK / VT')."""
        segments = [x for x in _SEPARATORS.split(line) if x.strip()]
        return len(segments) > 1 and all(self.classify(x, subject_position=False) == "teacher" for x in segments)

    def _batch_label(self, line: str) -> str:
        """The document's batch label that ``line`` is a misreading of ('Growp 1' for 'Group 1'), else ``line``:
        a line of its length give or take one, that differs from the label in two letters at most, and
        printed less often than it (a misreading can be a label's word in another language, 'Groep 2')."""
        if not self.batch_labels or len(line) > 12:
            return line
        for label, count in self.batch_labels.most_common():
            if count <= self.batch_labels.get(line, 0) or label == line:
                break
            if abs(len(label) - len(line)) <= 1 and line[-1:] == label[-1:]:
                matcher = difflib.SequenceMatcher(None, line.casefold(), label.casefold())
                if max(len(line), len(label)) - sum(b.size for b in matcher.get_matching_blocks()) <= 2:
                    return label
        return line

    def known_room(self, token: str) -> str | None:
        """The room this document prints that OCR misread as ``token`` ('RS' for 'R5', 'B1O' for 'B10')."""
        t = token.strip()
        if not self.rooms or not 2 <= len(t) <= 6 or t in self.rooms:
            return None
        fixed = t[0] + "".join(_OCR_DIGITS.get(c, c) for c in t[1:])
        return fixed if fixed != t and fixed in self.rooms else None

    def _field_variant(self, line: str) -> FieldName | None:
        """The field of a line that OCR misread from a field line the document repeats ('3@ SERIE B'
        for '3° SERIE B'): a line of the same length nearly equal to it."""
        if not self.field_lines or line in self.field_lines or self.classify(line, subject_position=False):
            return None
        for known, role in self.field_lines.items():
            if abs(len(known) - len(line)) <= 2 and difflib.SequenceMatcher(None, known, line).ratio() >= 0.8:
                return role
        return None

    def _is_teacher_code(self, token: str, *, alone: bool) -> bool:
        """A code is a teacher when the document uses it so, or when it stands alone off the subject line."""
        if not is_code(token):
            return False
        if token in self.teacher_codes:
            return True
        return alone and token not in self.subject_codes

    def classify(self, text: str, *, subject_position: bool) -> FieldName | None:
        """The field a whole segment is, or None for plain text."""
        t = text.strip()
        if not t:
            return None
        if is_teacher_name(t):
            return "teacher"
        if is_group(t):
            return "group"
        if not subject_position and self.numbered_teachers and _BARE_NUMBER.fullmatch(t):
            return "teacher"
        if not subject_position and (is_room(t) or _room_led(t)):
            return "room"
        if not subject_position and _WORD_NUMBER.match(t) and fold(t.split()[0]) not in _NOT_ROOM_WORDS:
            return "room"  # 'Music 1' off the subject line
        if subject_position and _ROOM_CODE.match(t) and any(c.isdigit() for c in t) and not is_code(t):
            return "room" if is_room(t) else None
        if self._is_teacher_code(t, alone=not subject_position):
            return "teacher"
        if not subject_position and t != t.upper() and t.upper() in self.teacher_codes and t.isalpha():
            return "teacher"  # a code the document prints, its small capitals misread lower case ('vT')
        return None

    def _tail_fields(
        self, line: str, *, consume_all: bool, after_field: bool = False
    ) -> tuple[str, list[tuple[FieldName, str]]]:
        """Peel fields printed after the subject on one line: 'Maths (OKA) R101', 'CHO R323', 'NOL Gym'.

        With ``consume_all`` (a line below the subject) the first token may be a field too.
        """
        found: list[tuple[FieldName, str]] = []
        tokens = line.split()
        floor = 0 if consume_all else 1
        while len(tokens) > floor:
            last = tokens[-1]
            # A titled name after the subject on its line ('Geografia Prof.ssa Moretti', 'Maths Mr Smith'):
            # a cell's teacher line run into its subject line.
            titled = _titled_tail(tokens)
            if titled is not None:
                found.append(("teacher", " ".join(tokens[-titled:])))
                del tokens[-titled:]
                continue
            bracket = re.fullmatch(r"[(\[](.+)[)\]]", last)
            if bracket:
                name = self.classify(bracket.group(1), subject_position=False)
                if name is None or (name == "room" and _course_code(bracket.group(1)) and len(tokens) > 1):
                    break  # 'Word Work (Phonics)', 'Engineering Physics (PHY101)': part of the name
                found.append((name, bracket.group(1)))
                tokens.pop()
                continue
            # OCR drops one bracket: 'Englisch 322)', 'Informatik (Inf'.
            half = re.fullmatch(r"[(\[]([^()\[\]]+)|([^()\[\]]+)[)\]]", last)
            if half and not any(c in " ".join(tokens[:-1]) for c in "()[]"):
                inner = half.group(1) or half.group(2)
                name = self.classify(inner, subject_position=False)
                if name is None and half.group(1) is None:
                    break
                found.append((name or "notes", inner))
                tokens.pop()
                continue
            if len(tokens) - 2 >= floor:
                two = " ".join(tokens[-2:])
                if is_room(two) and not _ROOM_NUMBER.match(tokens[-1]) and not is_code(tokens[-2]):
                    found.append(("room", two))
                    del tokens[-2:]
                    continue
                if _ROOM_CODE.match(two) and is_room(two):
                    found.append(("room", two))
                    del tokens[-2:]
                    continue
            if len(tokens) > 1 and _POSSESSIVE_END.search(tokens[-2]):
                break  # "Children's Workshop": the word after a possessive is its noun, not a room
            after_label = len(tokens) > 1 and fold(tokens[-2].rstrip(":")) in _NOT_ROOM_WORDS
            if is_room(last) and not (last.isdigit() and (len(last) < 2 or after_label)) and (
                any(c.isdigit() for c in last) or fold(last) in ROOM_WORDS or fold(last).endswith(ROOM_SUFFIXES)
            ):
                found.append(("room", last))
                tokens.pop()
                continue
            if _ROMAN_NUMERAL.fullmatch(last) and len(tokens) > 1 and _WORD_CHARS.fullmatch(tokens[-2]) and (
                last not in self.teacher_codes
            ):
                break  # 'Analysis II', 'Chemistry IV': the course's part, not a teacher's code
            if is_code(last) and (
                last in self.teacher_codes
                or ((found or consume_all or after_field) and last not in self.subject_codes)
            ):
                found.append(("teacher", last))
                tokens.pop()
                continue
            break
        found.reverse()
        return " ".join(tokens), found

    def split(
        self, lines: Sequence[str], *, styles: Sequence[str | None] | None = None, below_corner: bool = False
    ) -> CellFields:
        """Fields of one cell, names kept as printed; differently styled or bracketed lines go to notes.
        ``below_corner``: the lines under the cell's corner code, which a cell prints once."""
        raw = [_clean_line(x) for x in lines]
        line_styles: list[str | None] = list(styles) if styles is not None else [None] * len(raw)
        line_styles += [None] * (len(raw) - len(line_styles))
        joined = join_spaced_letters("\n".join(raw))
        if "\n" not in joined and (len(raw) > 1 or (raw and joined != raw[0])):
            # Letters stacked one per line, or spaced out on one ('B R E A K' in a break band): one word.
            raw, line_styles = [joined], [line_styles[0]]
        pairs = [
            (tidy_whitespace(strip_times(x)) if find_times(x) else tidy_whitespace(x), s)
            for x, s in zip(raw, line_styles, strict=False)
        ]
        pairs = [(x, s) for x, s in pairs if x]
        if not pairs:
            return CellFields(subject="", kind="lesson")
        pairs = _join_lone_titles(self._join_broken_words(_join_open_brackets(pairs)))
        pairs = self._join_wrapped_rooms(pairs)
        pairs = [(self._batch_label(x), st) for x, st in pairs]
        marked = _marked_fields(pairs)
        pairs = [(x, st) for x, st in ((_without_marks(x), st) for x, st in pairs) if x]
        if marked:
            # The rest of the cell read as usual (nothing left: only marked fields, no name).
            fields = (
                self.split([x for x, _ in pairs], styles=[st for _, st in pairs])
                if pairs
                else CellFields(subject="", kind="lesson")
            )
            for name, value in marked:
                if name == "notes":
                    fields.notes = "; ".join(n for n in (fields.notes, value) if n)
                elif getattr(fields, name) is None:
                    setattr(fields, name, value)
                else:
                    fields.notes = "; ".join(n for n in (fields.notes, value) if n)
            return fields
        if self.slash_role is not None:
            pairs = _join_wrapped_codes(pairs)
            first = self._slash_field(pairs[0][0])
            if first and first.group("code"):
                # The name before the slash is the subject as printed ('CHEM(P2)'); lines below are notes.
                subject = _tidy_subject(first.group("name"))
                fields = CellFields(
                    subject=subject,
                    notes="; ".join(x for x, _ in pairs[1:]) or None,
                    kind=classify_kind(subject, self.language),
                )
                setattr(fields, self.slash_role, first.group("code"))
                return _with_group_from_name(fields)
        # The document's class code atop the cell, as read or misread: the cell below it is read as a
        # cell of its own, so that its first line is in the name's place.
        corner_code = None if below_corner else _corner_class(pairs[0][0], self.first_line_groups)
        room_atop = (
            self.first_line_rooms and not below_corner and len(pairs) >= 2 and len(pairs[0][0].split()) <= 2
            and self.classify(pairs[0][0], subject_position=False) in (None, "room")
        )  # fmt: skip
        if len(pairs) >= 2 and (
            _GROUP_LINE.fullmatch(pairs[0][0]) or corner_code or _small_corner_code(pairs) or room_atop
        ):
            # A cell prints its class once: the line under it ('IPA') is no misread class ('1PA').
            fields = self.split([x for x, _ in pairs[1:]], styles=[st for _, st in pairs[1:]], below_corner=True)
            label = corner_code or pairs[0][0].rstrip(":.")
            role = None if corner_code else self.classify(label, subject_position=False)
            if role not in (None, "group") and getattr(fields, role) is None:
                setattr(fields, role, label)
            elif fields.group is None:
                fields.group = label
            else:
                fields.notes = "; ".join(n for n in (label, fields.notes) if n)
            return fields
        if self.first_line_groups is not None and len(pairs) >= 2 and not below_corner:
            group = _misread_group(pairs[0][0], self.first_line_groups)
            if group is not None:
                pairs[0] = (group, pairs[0][1])
        if self.leading_groups:
            head, _, rest = pairs[0][0].partition(" ")
            if rest and is_group(head) and re.search(r"[^\W\d_]{3,}", rest):
                fields = self.split([rest, *(x for x, _ in pairs[1:])], styles=[st for _, st in pairs])
                if fields.group is None:
                    fields.group = head
                else:
                    fields.notes = "; ".join(n for n in (head, fields.notes) if n)
                return fields
        subject_style = pairs[0][1]
        # Codes in the cell's small print (an export's corners): a plain word beside them is a place.
        coded_corners = any(
            _is_small(st) and (found := self._tail_fields(x, consume_all=True))[1] and not found[0] for x, st in pairs
        )
        parsed = _Parsed()
        description = False  # after 'Music:' the rest of the cell describes the lesson
        for index, (line, style) in enumerate(pairs):
            at_subject = not parsed.subject_parts
            bracket = re.fullmatch(r"[(\[](.*)[)\]]", line)
            if bracket and not at_subject and not parsed.closed and _course_code(bracket.group(1)):
                parsed.subject_parts[-1] += f" {line}"  # the name's course code, wrapped onto a line of its own
                continue
            if bracket and not at_subject:
                inner = bracket.group(1).strip()
                name = self.classify(inner, subject_position=False)
                if name is None:
                    parsed.note(inner, index, new_block=True)
                else:
                    parsed.put(name, inner)
                continue
            # Separators left dangling by a lost word or an OCR split ('KLE -') do not hide a field.
            bare = line.strip(" -–—·•|,;")
            misread = self.known_room(bare) if index > 0 else None
            if misread is not None:
                parsed.put("room", misread)
                continue
            variant = self._field_variant(bare) if index > 0 else None
            if variant is not None:
                parsed.put(variant, bare)
                continue
            if index > 0 and parsed.subject_parts and not parsed.closed and _POSSESSIVE_END.search(pairs[index - 1][0]):
                parsed.put("subject", line, index)  # "Children's" / "Workshop": the name goes on
                continue
            if (
                index > 0
                and parsed.subject_parts
                and not parsed.closed
                and not description
                and _DASH_END.search(parsed.subject_parts[-1])
                and len(line.split()) == 1
                and not (self.classify(bare, subject_position=False) == "room" and not re.fullmatch(_COURSE_CODE, bare))
                and bare not in self.shared_codes
            ):
                # 'Physics -' / 'PHY101': the course code wrapped ('Zoology -' / 'AB12' wraps a room).
                parsed.put("subject", line, index)
                continue
            if (
                index > 0
                and len(parsed.subject_parts) == 1
                and not parsed.closed
                and ABBREVIATION.fullmatch(parsed.subject_parts[0])
                and _person_line_parts(line) is None
                and self.classify(bare, subject_position=False) is None
            ):
                parsed.put("subject", line, index)  # 'Lab.' / 'Chimica': an abbreviation alone is no name
                continue
            whole = self.classify(bare, subject_position=index == 0) if bare else None
            if whole is not None and bare != line:
                line = bare
            # A lone '7B' in a class's own timetable is more likely a subject-less label than a class.
            if whole is not None and not (whole == "group" and len(pairs) == 1 and self.owner_kind != "teacher"):
                parsed.put(whole, line)
                continue
            people = _person_line_parts(line) if self.whole_first_line and index > 0 and parsed.subject_parts else None
            if people is not None:
                # Below the name, the people who teach it (and a room among them): names as printed.
                names, rooms = people
                parsed.put("teacher", " - ".join(names))
                for room in rooms:
                    parsed.put("room", room)
                continue
            if self.whole_first_line and index > 0 and parsed.subject_parts and _looks_like_fields(line):
                # Below the name, a line of codes holds fields; what it leaves is where this document
                # puts rooms ('NAC Floor-5'), never more of the name.
                probe = _Parsed()
                self._read_mixed_line(line, probe, index=1)
                if not probe.subject_parts:
                    for name in ("teacher", "room", "group"):
                        if getattr(probe, name):
                            parsed.put(name, getattr(probe, name))
                    for block in probe.notes:
                        parsed.note(" ".join(block), index, new_block=True)
                elif parsed.room is None and not (probe.teacher or probe.room or probe.group):
                    parsed.put("room", bare)
                else:
                    parsed.note(line, index, new_block=False)
                continue
            if not at_subject and style != subject_style:
                # Another style: fields printed smaller or in grey ('CHO R305') stay fields; text is a note.
                rest, tail = self._tail_fields(line, consume_all=True)
                if tail and not rest:
                    for name, value in tail:
                        parsed.put(name, value)
                elif self._teachers_line(bare):
                    parsed.put("teacher", bare)  # 'MSK / VT': two teachers' codes in the corner, as printed
                elif _is_small(style) and coded_corners and parsed.room is None and _place_name(bare):
                    parsed.put("room", bare)  # a corner's word beside the codes: where it is ('Library')
                else:
                    parsed.note(line, index, new_block=False)
                continue
            if description:
                parsed.note(line, index, new_block=False)
                continue
            name_so_far = fold(" ".join(parsed.subject_parts))
            if (
                parsed.subject_parts
                and not parsed.closed
                and (name_so_far in self.names or name_so_far in WHOLE_SUBJECT_NAMES)
                and not _continues(parsed.subject_parts[-1], line)
                and _describes(line)
            ):
                # The name is complete (the document prints it alone at the top of other cells): plain
                # text under it describes the lesson ('English' / 'Sentence Stack 6').
                probe = _Parsed()
                self._read_mixed_line(line, probe, index=index)
                if not (probe.teacher or probe.room or probe.group):
                    parsed.note(line, index, new_block=False)
                    description = True
                    continue
            if index == 0 and self.whole_first_line and len(pairs) >= 2:
                self._read_name_line(line, parsed)
            else:
                self._read_mixed_line(line, parsed, index=index)
            if line.endswith(":") and parsed.subject_parts and not parsed.closed:
                parsed.subject_parts[-1] = parsed.subject_parts[-1].rstrip(":").rstrip()
                description = True
        subject = " ".join(p for p in parsed.subject_parts if p).strip()
        notes = [" ".join(block) for block in parsed.notes]
        if not subject:
            # Only fields or notes printed: a lone note or code is the subject ('Catch Up Slot' in red).
            if notes:
                subject = notes.pop(0)
            elif parsed.teacher and not parsed.room and not parsed.group:
                subject, parsed.teacher = parsed.teacher, None
            elif parsed.group and self.owner_kind != "teacher" and not parsed.room:
                subject, parsed.group = parsed.group, None
            elif parsed.room and not parsed.teacher and not parsed.group and len(pairs) == 1:
                subject, parsed.room = parsed.room, None  # 'Art 2' alone names the lesson
        subject = _tidy_subject(subject)
        return _with_group_from_name(
            CellFields(
                subject=subject,
                teacher=parsed.teacher,
                room=parsed.room,
                group=parsed.group,
                notes="; ".join(notes) if notes else None,
                kind=classify_kind(subject, self.language),
            )
        )

    def _slash_field(self, line: str) -> re.Match[str] | None:
        """'NAME/CODE' as printed, or 'DC(L) AG' / 'DC(L)AG' for 'DC(L)/AG': in small print OCR loses the
        slash between a bracketed lecture or batch mark and the code after it. Only a code the document
        prints after a slash elsewhere is taken so."""
        printed = _SLASH_FIELD.match(line)
        if printed:
            return printed
        found = _SLASH_LOST.match(line)
        return found if found and found.group("code") in self.slash_codes else None

    def _read_name_line(self, line: str, parsed: _Parsed) -> None:
        """The first line of a cell in a document that prints fields on the lines below: the name as
        printed, codes and all ('Algebra - MTH104'), less a bracket that reads as a field and a
        trailing teacher code the document uses as one."""
        name = line
        # A bracket holds a field when it reads as a titled name, a class, a known teacher code or a room
        # in words or a short code ('(Music 1)', '(R203)'); a course code (letters, then three digits or more:
        # '(PHY110)') is part of the name.
        for pm in list(_PAREN.finditer(name)):
            inner = (pm.group(1) or pm.group(2) or "").strip()
            role = self.classify(inner, subject_position=False)
            if role is not None and not (role == "room" and _course_code(inner)):
                parsed.put(role, inner)
                name = tidy_whitespace(name.replace(pm.group(0), " "))
        tokens = name.split()
        if len(tokens) > 1 and tokens[-1] in self.teacher_codes and tokens[-1] not in self.subject_codes:
            parsed.put("teacher", tokens.pop())
        titled = _titled_tail(tokens)
        if titled is not None:  # the teacher line run into the name line
            parsed.put("teacher", " ".join(tokens[-titled:]))
            del tokens[-titled:]
        m = _WITH_TEACHER.match(" ".join(tokens))
        if m and (is_code(m.group("teacher")) or is_teacher_name(m.group("teacher"))):
            parsed.put("subject", m.group("subject"), 0)
            parsed.put("teacher", m.group("teacher"))
            return
        parsed.put("subject", " ".join(tokens), 0)

    def parallel(self, lines: Sequence[str]) -> list[list[str]] | None:
        """Lines of one cell that are separate lessons side by side (lab batches: 'PHY(P1)/JK',
        'CHEM(P2)/RT', 'BIO(P3)/S'): one group of lines per lesson, or None when the cell is one lesson.
        Only where the document prints 'name/code' cells, or where every line names its own batch
        ('Physics Lab (B1)' / 'Chemistry Lab (B2)'), so each line shows it is a whole lesson."""
        if self.slash_role is None:
            return _batch_lines(lines)
        pairs = _join_wrapped_codes([(x.strip(), None) for x in lines if x.strip()])
        groups: list[list[str]] = []
        for line, _ in pairs:
            m = self._slash_field(line)
            if (m and m.group("code")) or not groups:
                groups.append([line])
            else:
                groups[-1].append(line)
        complete = sum(1 for g in groups if (m := self._slash_field(g[0])) and m.group("code"))
        return groups if len(groups) >= 2 and complete == len(groups) else None

    def _read_mixed_line(self, line: str, parsed: _Parsed, *, index: int) -> None:
        at_subject = not parsed.subject_parts
        tail_code = _TAIL_CODE.match(line)
        if at_subject and _COURSE_LINE.match(line) and not (tail_code and tail_code.group("code") in self.shared_codes):
            # 'CSC110 - Programming', '4102EE201 - SIG', 'Algebra - MTH104': a course code and its
            # name are one subject, whatever the separator suggests.
            parsed.put("subject", line, index)
            return
        # 'Outdoor learning with MD': the adult named after 'with'.
        m = _WITH_TEACHER.match(line)
        if m and (is_code(m.group("teacher")) or is_teacher_name(m.group("teacher"))):
            parsed.put("subject", m.group("subject"), index)
            parsed.put("teacher", m.group("teacher"))
            return
        segments = [s for s in _SEPARATORS.split(line) if s.strip()]
        if len(segments) > 1:
            kinds = [self.classify(s, subject_position=False) for s in segments]
            strong = any(
                k in ("room", "group") or (k == "teacher" and (is_teacher_name(s) or s in self.teacher_codes))
                for k, s in zip(kinds, segments, strict=True)
            )
            if strong or (not at_subject and all(k is not None for k in kinds)):
                for k, s in zip(kinds, segments, strict=True):
                    if k is not None:
                        parsed.put(k, s)
                        continue
                    rest, tail = self._tail_fields(s, consume_all=False, after_field=True)
                    for name, value in tail:
                        parsed.put(name, value)
                    parsed.put("subject", rest, index)
                return
        rest, tail = self._tail_fields(line, consume_all=not at_subject)
        # Brackets inside the rest: 'Maths (OKA) today' -> teacher; '(Phonics)' and '(PHY101)' stay in the name.
        for pm in list(_PAREN.finditer(rest)):
            inner = (pm.group(1) or pm.group(2) or "").strip()
            name = self.classify(inner, subject_position=False)
            if name == "room" and _course_code(inner) and rest.replace(pm.group(0), " ").strip():
                continue
            if name is not None:
                parsed.put(name, inner)
                rest = rest.replace(pm.group(0), " ")
                continue
            # '(Mrs Patel, 193)': several fields in one bracket.
            parts = [x.strip() for x in _SEPARATORS.split(inner) if x.strip()]
            names = [self.classify(x, subject_position=False) for x in parts]
            if len(parts) > 1 and all(names):
                for n, x in zip(names, parts, strict=True):
                    parsed.put(n or "notes", x)
                rest = rest.replace(pm.group(0), " ")
        rest = tidy_whitespace(rest)
        if rest and tail:
            # 'Mrs Mensah B313': what is left may itself be a field.
            name = self.classify(rest, subject_position=at_subject and index == 0)
            if name is not None:
                parsed.put(name, rest)
                rest = ""
        for name, value in tail:
            parsed.put(name, value)
        if rest:
            parsed.put("subject", rest, index)

    def _join_wrapped_rooms(self, pairs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
        """'LAB TJKT' + '1' -> 'LAB TJKT 1': a room's number wrapped onto the next line of a narrow cell,
        where the document prints that room whole elsewhere."""
        if not self.coded_rooms:
            return pairs
        out: list[tuple[str, str | None]] = []
        for line, style in pairs:
            if out and _BARE_NUMBER.fullmatch(line) and f"{out[-1][0]} {line}" in self.coded_rooms:
                out[-1] = (f"{out[-1][0]} {line}", out[-1][1])
                continue
            out.append((line, style))
        return out

    def _known(self, word: str) -> bool:
        w = word.casefold()
        return w in self.vocabulary or w in COMMON_WORDS or w in FUNCTION_WORDS

    def _join_broken_words(self, pairs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
        """Join a word broken across lines ('Engli' + 'sh', 'Comprehens-' + 'ion') or split by OCR ('Math s')."""
        out: list[tuple[str, str | None]] = []
        for line, style in pairs:
            line = self._join_inside(line)
            if out and out[-1][1] == style:
                prev = out[-1][0]
                merged = self._join_across(prev, line)
                if merged is not None:
                    out[-1] = (merged, style)
                    continue
            out.append((line, style))
        return out

    def _capital_i(self, token: str) -> str:
        """OCR reads a capital I as a lower-case l ('lta-Sto', 'lnformatik'): put the I back when the
        document prints the word with the I more often than with the l."""
        word = _WORD_CHARS.match(token)
        if not word or not re.fullmatch(r"l[a-zà-ÿ]+", word.group(0)):
            return token
        as_printed = self.word_counts.get(word.group(0).casefold(), 0)
        with_i = self.word_counts.get(("i" + word.group(0)[1:]).casefold(), 0)
        return "I" + token[1:] if with_i > as_printed else token

    def _join_across(self, prev: str, line: str) -> str | None:
        m_prev = re.search(r"([^\W\d_]+)(-?)$", prev)
        m_next = re.match(r"([^\W\d_]+)", line)
        if not m_prev or not m_next or _LOWER_CASE_CODE.match(line):
            return None
        head, hyphen, tail = m_prev.group(1), m_prev.group(2), m_next.group(1)
        glued = head + tail
        if hyphen and tail[:1].islower():
            return prev[: m_prev.start(2)] + line  # 'Comprehens-' + 'ion/...'
        if not tail[:1].islower():
            return None
        if self._known(glued) and (not self._known(head) or not self._known(tail)):
            return prev + line
        if not self._known(head) and not self._known(tail) and len(tail) <= 2 and len(head) >= 3:
            return prev + line
        return None

    def _join_inside(self, line: str) -> str:
        tokens = [self._capital_i(tok) for tok in line.split(" ")]
        out: list[str] = []
        for tok in tokens:
            if out and tok[:1].islower() and tok.isalpha() and out[-1].isalpha():
                glued = out[-1] + tok
                if self._known(glued) and not self._known(tok) and not self._known(out[-1]):
                    out[-1] = glued
                    continue
                if self._known(glued) and len(tok) <= 2 and not self._known(tok):
                    out[-1] = glued
                    continue
            out.append(tok)
        return " ".join(out)




# Letters OCR reads for digits inside a code ('R5' -> 'RS').
_OCR_DIGITS = {"S": "5", "O": "0", "o": "0", "I": "1", "l": "1", "B": "8", "Z": "2", "G": "6"}



_LONE_TITLE = re.compile(rf"^(?:{TITLE_WORDS})\.?$")


def _join_open_brackets(pairs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """A bracket opened on one line and closed on the next is one line wrapped in a narrow column
    ('Religion (Mrs' / 'Ward) A-17'): the bracket's content is read whole."""
    out: list[tuple[str, str | None]] = []
    for line, style in pairs:
        if out and out[-1][0].count("(") > out[-1][0].count(")") and line.count(")") > line.count("("):
            out[-1] = (f"{out[-1][0]} {line}", out[-1][1])
            continue
        out.append((line, style))
    return out


def _join_lone_titles(pairs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """A title alone on its line and the name on the next are one teacher ('Prof.ssa' / 'Moretti'): a
    narrow cell wraps a titled name after its title."""
    out: list[tuple[str, str | None]] = []
    skip = False
    for (text, style), following in zip(pairs, [*pairs[1:], None], strict=True):
        if skip:
            skip = False
            continue
        if following is not None and _LONE_TITLE.match(text) and is_teacher_name(f"{text} {following[0]}"):
            out.append((f"{text} {following[0]}", style))
            skip = True
            continue
        out.append((text, style))
    return out


def _titled_tail(tokens: list[str]) -> int | None:
    """How many tokens at the end make a titled name ('Prof.ssa Moretti', 'Mrs Anne Hale') after at
    least one other token, or None."""
    return next((n for n in (3, 2) if len(tokens) - n >= 1 and is_teacher_name(" ".join(tokens[-n:]))), None)


def _looks_like_fields(line: str) -> bool:
    """A line of teacher/room/class fields ('OKA', 'CHO R305', 'Mrs Jensen', 'BUS · B302', '7B')."""
    t = line.strip(" -–—·•|,;")
    tokens = [x for x in re.split(r"[\s·•|/,;()]+", t) if x]
    if not tokens:
        return False
    return (
        is_teacher_name(t)
        or is_group(t)
        or is_room(t)
        or is_code(tokens[0])
        or bool(_ROOM_CODE.match(tokens[-1]) or _ROOM_NUMBER.match(tokens[-1]))
    )


def _describes(line: str) -> bool:
    """Text that describes a lesson rather than finishing its name: several words, or a number."""
    return len(line.split()) >= 2 or any(c.isdigit() for c in line)


def _continues(previous: str, line: str) -> bool:
    """Does ``line`` carry on the text above it ('Design' / '& Technology', 'Finishing' / 'off',
    "Children's" / 'Workshop': a possessive needs its noun)?"""
    return (
        (line[:1].islower() and not _LOWER_CASE_CODE.match(line))
        or line[:1] in "&+/-–,("
        or previous.rstrip()[-1:] in "&+/-–,:("
        or bool(_POSSESSIVE_END.search(previous))
    )


# A short lower-case word ending a first line ('Design and', 'Storia e', 'Arts et'): a joining word, so
# the line is no whole name, whatever different lines follow it.
_OPEN_END = re.compile(r"(?:^|\s)(?=[^\W\d_]{1,3}\s*$)[a-zà-ÿ]+\s*$")


_POSSESSIVE_END = re.compile(r"\w['’]s?\s*$")
# A name line ending in a spaced dash: the course code after it wrapped onto the next line.
_DASH_END = re.compile(r"\w\s+[-–]\s*$")
# A code printed in lower case ('s112', 'b2.04': rooms in many schools) starts a field of its own.
_LOWER_CASE_CODE = re.compile(r"[a-zäöü]{1,3}[\-.]?\d[\w.\-]*$")
# One short word cut off by a full stop ('Lab.', 'Ed.', 'Sc.'): the start of a name, never all of it.
ABBREVIATION = re.compile(r"[^\W\d_]{1,4}\.")


def _clean_line(text: str) -> str:
    return nfkc(text).replace("\t", " ").strip()


def _cleaned(lines: Sequence[str]) -> list[str]:
    """A cell's lines normalised and with their spacing tidied, as the document-level counts read them."""
    return [tidy_whitespace(_clean_line(x)) for x in lines]


def _tidy_subject(subject: str) -> str:
    subject = tidy_whitespace(subject)
    subject = re.sub(r"\s*[:;,]$", "", subject)
    subject = re.sub(r"(?<=\w)\s+[-–]$", "", subject)  # the dash before a field peeled off ('Physics - R12')
    return _without_repeat(subject.strip())


def _without_repeat(subject: str) -> str:
    """A name printed again in a merged cell, once per row it spans, the repeat cut short by the
    cell's edge ('Historia del arte Historia del', 'Physik Physik'): the name once. The repeat starts with
    the name's first two words (or its one word), so 'Art and Art History' stays."""
    tokens = subject.split()
    for cut in range(1, len(tokens)):
        head, tail = tokens[:cut], tokens[cut:]
        if len(tail) <= len(head) and head[: len(tail)] == tail and len(tail) >= min(2, len(head)):
            return " ".join(head)
    return subject


def _join_wrapped_codes(pairs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """'PHY(L)/J' + 'K' -> 'PHY(L)/JK'; 'BIO(L)/' + 'RT' -> 'BIO(L)/RT': a code cut by a narrow cell."""
    out: list[tuple[str, str | None]] = []
    for line, style in pairs:
        if out:
            prev = out[-1][0]
            m = _SLASH_FIELD.match(prev)
            if m and len(m.group("code") or "") <= 2 and re.fullmatch(r"[A-Z][A-Z0-9]{0,2}", line.strip()):
                out[-1] = (prev.rstrip() + line.strip(), out[-1][1])
                continue
        out.append((line, style))
    return out


def _with_group_from_name(fields: CellFields) -> CellFields:
    """A batch named inside the subject ('Physics Lab Grp-2', 'CHEM(P2)') is also the entry's group."""
    if fields.group is None and fields.subject:
        m = _GROUP_IN_NAME.search(fields.subject)
        if m:
            fields.group = m.group("label") or m.group("batch")
    return fields


def _document_cell_shape(cells: Sequence[Sequence[str]]) -> tuple[FieldName | None, bool, frozenset[str]]:
    """What most cells of one document look like: (the field of a code after a slash, or None;
    whether multi-line cells keep the name on the first line and fields below; the codes printed
    after a slash)."""
    slash_cells = lost_slash_cells = 0
    named = 0
    codes: Counter[str] = Counter()
    multi = fields_below = 0
    for cell in cells:
        lines = _cleaned(cell)
        lines = [x for x in (strip_times(x) if find_times(x) else x for x in lines) if x]
        if not lines:
            continue
        named += 1
        joined = _join_wrapped_codes([(x, None) for x in lines])
        found = [m for m in (_SLASH_FIELD.match(x) for x, _ in joined) if m and m.group("code")]
        if found:
            slash_cells += 1
            codes.update(m.group("code") for m in found)
        elif any(_SLASH_LOST.match(x) for x, _ in joined):
            lost_slash_cells += 1
        if len(lines) >= 2:
            multi += 1
            fields_below += all(
                _looks_like_fields(x) or _person_line_parts(x) is not None for x in lines[1:]
            ) and not is_code(lines[0].split()[0])
    slash_role: FieldName | None = None
    # Cells whose slash OCR lost ('PHY(L) JK') count with those that print it, where some do.
    if named >= 3 and slash_cells >= 2 and (slash_cells + lost_slash_cells) * 2 >= named:
        rooms = sum(n for code, n in codes.items() if any(c.isdigit() for c in code) and len(code) >= 3)
        slash_role = "room" if rooms * 2 > sum(codes.values()) else "teacher"
    whole_first_line = multi >= 3 and multi * 2 >= named and fields_below * 5 >= multi * 3
    return slash_role, whole_first_line, frozenset(codes)


_CODED_PLACE = re.compile(r"[^\W\d_]\.[^\W\d_]|\d")
_PERSON_WORD = re.compile(r"^[A-ZÀ-Þ][a-zß-ÿ'’]+(?:-[A-ZÀ-Þ][a-zß-ÿ'’]+)?$")


def _room_part(part: str) -> bool:
    """A room printed among names: 'Lab.Fis.2', 'Hall North-02', 'Room 4'."""
    first = re.match(r"[^\W\d_]+", part)
    return is_room(part) or bool(first and fold(first.group(0)) in ROOM_WORDS)


def _place_name(text: str) -> bool:
    """One or two capitalised words ('Library', 'Sports Hall'): a place's name in a cell's corner."""
    words = text.split()
    return 1 <= len(words) <= 2 and all(w[:1].isupper() and w.isalpha() for w in words)


def _is_small(style: str | None) -> bool:
    return style is not None and "small" in style.split()


def _person_line_parts(line: str) -> tuple[list[str], list[str]] | None:
    """(people, rooms) of a line that lists people's names, perhaps with a room ('Rossi Anna - Bianchi
    Marco - Lab.3'); None when the line is not such a list. A name is two to four capitalised words."""
    parts = [x.strip() for x in re.split(r"\s+[-–—/]\s+|\s*[,;]\s*", line) if x.strip()]
    people: list[str] = []
    rooms: list[str] = []
    for index, part in enumerate(parts):
        words = part.split()
        # A stray mark after a word is OCR's ('Rossi: Anna'); the name is printed without it.
        bare = [w.rstrip(":;") for w in words]
        if 2 <= len(words) <= 4 and all(_PERSON_WORD.match(w) for w in bare) and not any(
            fold(w) in {fold(c) for c in COMMON_WORDS} or fold(w) in ROOM_WORDS for w in bare
        ):
            people.append(" ".join(bare))
        elif _room_part(part) or (index == len(parts) - 1 and people and _CODED_PLACE.search(part)):
            # After the names, a last part written as a code ('Aula 12', 'Lab.Inf.Nord') is the place.
            rooms.append(part)
        else:
            return None
    return (people, rooms) if people else None


def _batch_lines(lines: Sequence[str]) -> list[list[str]] | None:
    """Each line a lesson of its own batch: two lines or more, each naming a different batch."""
    texts = [x.strip() for x in lines if x.strip()]
    if len(texts) < 2:
        return None
    labels = []
    for text in texts:
        m = _GROUP_IN_NAME.search(text)
        if m is None:
            return None
        labels.append(fold(m.group("label") or m.group("batch") or ""))
    return [[t] for t in texts] if len(set(labels)) == len(labels) else None


# University course codes: letters then three digits or more ('MTH104', 'ECE 310', 'PHY110'), or a
# digit-letter-digit code ('4102EE201').
_COURSE_CODE = r"(?:[A-Z]{2,5}\s?\d{3,4}[A-Z]?|\d{3,5}[A-Z]{2,4}\d{2,4})"
_COURSE_LINE = re.compile(
    rf"^{_COURSE_CODE}\s*[-–:]\s*\S.*$|^\S.*?\s[-–]\s{_COURSE_CODE}\s*[#*]?$"
)
_TAIL_CODE = re.compile(rf"^(?P<name>.*?[^\W\d_].*?)\s(?:[-–]\s)?(?P<code>{_COURSE_CODE})\s*[#*]?$")


def _shared_tail_codes(cells: Sequence[Sequence[str]]) -> frozenset[str]:
    """Course-code-shaped codes that end the lines of two differently named lessons or more."""
    names: dict[str, set[str]] = {}
    for cell in cells:
        for line in cell:
            m = _TAIL_CODE.match(tidy_whitespace(_clean_line(line)))
            if m:
                names.setdefault(m.group("code"), set()).add(fold(m.group("name").strip(" -–")))
    return frozenset(code for code, named in names.items() if len(named) >= 2)


# Fields printed with their own marks: a faculty code in braces ('{QWERT}'), a room in square brackets
# with its kind ('[Class - D-105]', '[Lab - E-201-I]'), the kind of session alone in round brackets
# ('(Lecture)', '(Tutorial)').
_BRACED = re.compile(r"\{\s*([^{}]{1,30}?)\s*\}")
_BRACKETED_ROOM = re.compile(r"\[\s*(?:(?P<kind>[^\[\]\-–]{2,20}?)\s*[-–:]\s*)?(?P<room>[^\[\]]{1,20}?)\s*\]")
_SESSION_KIND = re.compile(
    r"^\(\s*(?P<kind>lecture|lec|lab|laboratory|practical|tutorial|tut|seminar|workshop|theory|exercise|"
    r"vorlesung|übung|uebung|praktikum|cours|td|tp|clase|práctica|practica|teoria|teoría|aula|lezione)\s*\)$",
    re.IGNORECASE,
)


def _marked_fields(pairs: list[tuple[str, str | None]]) -> list[tuple[FieldName, str]]:
    """Fields a cell marks by their brackets, in reading order: teacher codes in braces, rooms in square
    brackets (their kind to notes), the session's kind alone in round brackets (to notes)."""
    found: list[tuple[FieldName, str]] = []
    for line, _ in pairs:
        for m in _BRACED.finditer(line):
            found.append(("teacher", m.group(1)))
        for m in _BRACKETED_ROOM.finditer(line):
            if not _marked_room(m):
                continue
            room, kind = m.group("room").strip(), (m.group("kind") or "").strip()
            found.append(("room", room))
            if kind:
                found.append(("notes", kind))
        session = _SESSION_KIND.match(line.strip())
        if session:
            found.append(("notes", session.group("kind")))
    return found


def _marked_room(m: re.Match[str]) -> bool:
    room = m.group("room").strip()
    return bool(m.group("kind")) or is_room(room) or bool(re.search(r"\d", room))


def _without_marks(line: str) -> str:
    """The line less the fields ``_marked_fields`` takes from it."""
    line = _BRACED.sub(" ", line)
    line = _BRACKETED_ROOM.sub(lambda m: " " if _marked_room(m) else m.group(0), line)
    if _SESSION_KIND.match(line.strip()):
        return ""
    return tidy_whitespace(line)


_BARE_NUMBER = re.compile(r"\d{1,3}")
# What follows a room word in a room named by codes: 'TJKT', '2', 'B12', 'IPA-1'.
_ROOM_NAME_CODE = re.compile(r"[A-Z0-9][A-Z0-9\-]{0,5}")


def _room_led(text: str) -> bool:
    """A room named by a room word and codes: 'LAB TJKT 2', 'Lab IPA', 'Room B 12', 'LAB TJKT BAWAH', or
    by capitalised words and a number ('Lab West 2'). What follows the room word names the room (a
    teacher code comes before it: 'HAD Sports Hall')."""
    tokens = text.split()
    if not 2 <= len(tokens) <= 4 or fold(tokens[0].rstrip(".:")) not in ROOM_WORDS:
        return False
    if is_code(tokens[-1]) and any(tok.isdigit() for tok in tokens[1:-1]):
        return False  # 'Lab 3 MR': the number ends the room's name, the code after it is a teacher
    if all(_ROOM_NAME_CODE.fullmatch(tok) for tok in tokens[1:]):
        return True
    return bool(re.search(r"\d", tokens[-1])) and all(_PERSON_WORD.match(tok) for tok in tokens[1:-1])


def _numbered_teachers(cells: Sequence[Sequence[str]]) -> bool:
    """Whether the document's lone numbers below a subject are teacher codes: in two cells or more a lone
    number stands beside a room printed as a name ('LAB TJKT 2' and '21', 'Sports Hall' and '21'), so it
    is not that cell's room, and more often than beside a letter teacher code (where a lone number is
    the room: 'JAN', '186')."""
    beside_room = beside_code = 0
    for cell in cells:
        lines = _cleaned(cell[1:])
        if not any(_BARE_NUMBER.fullmatch(x) for x in lines):
            continue
        others = [x for x in lines if x and not _BARE_NUMBER.fullmatch(x)]
        # A room named in words: a room code ('B183') beside a number may be two rooms OCR split.
        if any(_room_led(x) or (is_room(x) and not re.search(r"\d", x)) for x in others):
            beside_room += 1
        elif any(is_code(x) or is_teacher_name(x) for x in others):
            beside_code += 1
    return beside_room >= 2 and beside_room > beside_code


def _first_line_groups(cells: Sequence[Sequence[str]]) -> frozenset[str] | None:
    """The classes printed alone on the first line of the document's multi-line cells, when at least
    two thirds of those cells start with a class, as read or misread (teacher and room timetables);
    None otherwise."""
    heads = [
        lines[0]
        for lines in (_cleaned([x for x in cell if x.strip()]) for cell in cells)
        if len(lines) >= 2
    ]
    groups = frozenset(head for head in heads if is_group(head))
    if not groups and heads:
        # One short code atop nearly every cell is the class in the cells' corner, whatever OCR made of
        # it ('28' for '2B' in every cell); a subject or a room changes from cell to cell.
        head, count = Counter(heads).most_common(1)[0]
        if re.fullmatch(r"[^\W_]{1,4}", head) and any(c.isdigit() for c in head) and 3 * count >= 2 * len(heads):
            groups = frozenset({head})
    # A class OCR misreads the same way in every cell ('108' for '10S') counts once it reads as one.
    starting = [head for head in heads if head in groups or _misread_group(head, groups) is not None]
    if len(heads) < 4 or not groups or 3 * len(starting) < 2 * len(heads):
        return None
    return groups


# Letters and digits OCR takes for each other in a short code: '28' for '2B', 'BC' for '8C', '124' for '12A'.
_LOOKALIKES = {
    "8": "B", "B": "8", "5": "S", "S": "5", "0": "O", "O": "0", "1": "I", "I": "1", "2": "Z", "Z": "2", "6": "G",
    "G": "6", "b": "6", "4": "A", "A": "4",
}


def _shape(code: str) -> str:
    """A run of digits as 9, capitals as A, small letters as a: '12B' and '7B' -> '9A'."""
    shape = "".join("9" if c.isdigit() else "A" if c.isupper() else "a" if c.islower() else c for c in code)
    return re.sub(r"9+", "9", shape)


def _below_corner_code(cell: Sequence[str], groups: frozenset[str]) -> Sequence[str]:
    """The cell's lines under the class code printed atop it (the cell as it is when it has none)."""
    lines = [x for x in cell if x.strip()]
    if len(lines) >= 2 and _corner_class(tidy_whitespace(_clean_line(lines[0])), groups):
        return lines[1:]
    return cell


def _small_corner_code(pairs: Sequence[tuple[str, str | None]]) -> bool:
    """Whether the cell opens with one short code in small print above its name in larger print: the
    class (or room, or teacher) an aSc or Untis export prints in a cell's top corner. Small print is never
    part of the name, even when OCR misreads it into a word."""
    def code(k: int) -> bool:
        return _is_small(pairs[k][1]) and re.fullmatch(r"\S{1,6}", pairs[k][0]) is not None

    # Two codes can stand there (a room and a class, or a batch), each read as a line of its own.
    if len(pairs) < 2 or not code(0):
        return False
    return not _is_small(pairs[1][1]) or (len(pairs) >= 3 and code(1) and not _is_small(pairs[2][1]))


def _corner_class(line: str, groups: frozenset[str] | None) -> str | None:
    """The class ``line`` is when it is the document's class code atop its cells, as read or misread."""
    if groups is None:
        return None
    return line if line in groups else _misread_group(line, groups)


def _misread_group(line: str, known: frozenset[str]) -> str | None:
    """The class a first line of two to four characters is once look-alike characters are swapped
    ('28' -> '2B'): a reading shaped like a class the document prints ('7B': a digit and a capital),
    when exactly one reading is (one the document prints wins)."""
    if " " in line or not 2 <= len(line) <= 4 or is_group(line):
        return None
    shapes = {_shape(group) for group in known}
    options = [(c, _LOOKALIKES[c]) if c in _LOOKALIKES else (c,) for c in line]
    readings = {"".join(chars) for chars in itertools.product(*options)} - {line}
    classes = sorted(r for r in readings if _shape(r) in shapes and is_group(r))
    printed = [r for r in classes if r in known]
    if len(printed) == 1:
        return printed[0]
    return classes[0] if len(classes) == 1 else None


# The share of multi-line cells whose first line is a room for the document to print rooms atop its cells.
FIRST_LINE_ROOMS = 0.6


def _first_line_rooms(cells: Sequence[Sequence[str]]) -> bool:
    """Whether most multi-line cells (four or more) open with a room line ('B107' / 'Physics' / 'NG'). A
    short code with a digit counts as one misread ('B1O7'); letters stacked one per line (a break's word
    printed down a column) and cells led by their batch ('Group 2') are no lesson cells of that kind."""
    firsts = [
        lines[0]
        for lines in (_cleaned([x for x in cell if x.strip()]) for cell in cells)
        if len(lines) >= 2 and max(map(len, lines)) > 2 and not _GROUP_LINE.fullmatch(lines[0])
    ]
    rooms = sum(
        1 for line in firsts
        if not is_group(line) and (is_room(line) or (len(line) <= 6 and re.search(r"\d", line) and not find_times(line)))
    )  # fmt: skip
    return len(firsts) >= 4 and rooms >= FIRST_LINE_ROOMS * len(firsts)


def _leading_groups(cells: Sequence[Sequence[str]]) -> bool:
    """Whether the document's cells start with a class code and then a name, for several classes."""
    leading: Counter[str] = Counter()
    named = 0
    for cell in cells:
        lines = _cleaned([x for x in cell if x.strip()])
        if not lines:
            continue
        named += 1
        head, _, rest = lines[0].partition(" ")
        if rest and is_group(head) and re.search(r"[^\W\d_]{3,}", rest):
            leading[head.casefold()] += 1
    return named >= 3 and len(leading) >= 2 and sum(leading.values()) * 2 >= named
