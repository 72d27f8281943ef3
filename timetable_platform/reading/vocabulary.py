"""Words that name things in timetables, in many languages: column roles of record tables, labels of
room / teacher / group lines in grids. Day and month names are not here: they come from CLDR
(``domain.days``). The header and label words are folded (lower case, no accents), as
``domain.text.fold`` gives it; the cell words below say how they are compared.
"""

from __future__ import annotations

import re

from timetable_platform.domain.text import fold, one_edit_apart

# Column role -> header words (folded, no accents). Order matters: the first role whose words match wins.
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "day": (
        "hari", "date", "datum", "fecha", "data", "tanggal", "day date", "date day", "day", "weekday", "tag", "wochentag", "jour", "dia", "giorno", "dag", "weekdag", "dia da semana"),
    "start": (
        "starts", "start at", "begins", "mulai", "inicio", "início", "comeco", "debut",
        "start",
        "start time",
        "from",
        "begin",
        "beginn",
        "von",
        "debut",
        "heure de debut",
        "inicio",
        "hora de inicio",
        "comienzo",
        "inizio",
        "ora inizio",
        "van",
        "begintijd",
        "starttijd",
        "anfang",
    ),
    "end": (
        "ends", "end at", "finishes", "finish time", "selesai", "fim", "termino", "término",
        "end",
        "end time",
        "finish",
        "to",
        "until",
        "ende",
        "bis",
        "fin",
        "heure de fin",
        "hora de fin",
        "fine",
        "ora fine",
        "eind",
        "eindtijd",
        "tot",
        "einde",
        "termine",
    ),
    "time": (
        "time slot", "timeslot", "hours", "jam", "waktu", "pukul", "horas", "tempo", "date time", "date + time", "day time",
        "time",
        "times",
        "zeit",
        "uhrzeit",
        "heure",
        "horaire",
        "hora",
        "horario",
        "ora",
        "orario",
        "tijd",
    ),
    "period": (
        "period",
        "lesson no",
        "stunde",
        "std",
        "periode",
        "periodo",
        "sesion",
        "lezione",
        "uur",
        "#",
        "slot",
        "block",
        "nr",
        "no",
    ),
    "subject": (
        "module", "unit", "topic", "session", "title", "class name", "course name", "course title", "subject name", "thema", "kurs", "veranstaltung", "lehrveranstaltung", "actividad", "attivita", "atividade", "disciplina", "mata pelajaran", "mapel", "matakuliah", "mata kuliah", "what",
        "subject",
        "course",
        "activity",
        "lesson",
        "fach",
        "unterrichtsfach",
        "matiere",
        "cours",
        "asignatura",
        "materia",
        "vak",
        "event",
        "description",
    ),
    "teacher": (
        "people", "presenter", "presenters", "lecturer", "lecturers", "instructor", "instructors", "trainer", "faculty", "speaker", "speakers", "facilitator", "who", "dozent", "dozentin", "intervenant", "intervenants", "guru", "pengajar", "dosen", "ponente", "relatore",
        "teacher",
        "staff",
        "tutor",
        "lehrer",
        "lehrerin",
        "lehrkraft",
        "enseignant",
        "professeur",
        "prof",
        "profesor",
        "docente",
        "insegnante",
        "docent",
        "leraar",
    ),
    "room": (
        "place", "building", "where", "classroom", "ruang", "ruangan", "kelas ruang", "lugar", "luogo", "local", "gebaude", "raumnummer", "room", "raum", "salle", "aula", "sala", "lokaal", "location", "venue", "ort", "lieu"),
    "group": (
        "batch", "section", "cohort", "kelas", "turma", "seccion",
        "group",
        "class",
        "form",
        "klasse",
        "gruppe",
        "groupe",
        "classe",
        "grupo",
        "clase",
        "gruppo",
        "klas",
        "groep",
        "year group",
    ),
    "week": ("week", "woche", "semaine", "semana", "settimana", "week a/b", "rotation"),
    "notes": (
        "remarks", "details", "info", "information", "equipment", "equipment required", "materials", "resources", "type", "kind", "category", "format", "keterangan", "observaciones", "observacoes",
        "notes",
        "note",
        "comment",
        "comments",
        "bemerkung",
        "hinweis",
        "remarque",
        "nota",
        "notas",
        "opmerking",
    ),
}



# Field lines of a grid: a row or column of rooms (teachers, groups) printed beside the lessons.
FIELD_ROLES = ("room", "teacher", "group")
# Short labels of such lines that are no role word of their own ('S' for sala, 'Rm').
_SHORT_FIELD_LABELS = {"rm": "room", "r": "room", "s": "room", "lok": "room", "lect": "teacher", "grp": "group"}


def field_label_role(text: str) -> str | None:
    """The field a grid line's label names ('Room', 'ROOM 2', 'Sala', 'Rm.', 'Teacher', 'Batch'), if any."""
    key = re.sub(r"[\s_./:()#]+", " ", fold(text)).strip()
    key = re.sub(r"\s*\d{1,2}$", "", key).strip()
    if not key or len(key) > 20:
        return None
    if key in _SHORT_FIELD_LABELS:
        return _SHORT_FIELD_LABELS[key]
    for role in FIELD_ROLES:
        if key in ROLE_WORDS[role] or key.rstrip("s") in ROLE_WORDS[role]:
            return role
    return None


# --- words of timetable cells (read by ``reading.cells``) ----------------------------------------

# Folded names of breaks and meals, matched as whole words anywhere in a cell.
BREAK_TERMS: frozenset[str] = frozenset(
    {
        # en
        "break", "breaktime", "lunch", "lunchtime", "recess", "playtime", "snack", "dinner", "dinnertime",
        "outside play", "play time", "morning break", "lunch break",
        # de
        "pause", "mittagspause", "grosse pause", "kleine pause", "fruhstuckspause", "hofpause", "mittag",
        "mittagessen",
        # fr
        "recre", "recreation", "dejeuner", "pause dejeuner", "pause meridienne", "cantine",
        # es
        "recreo", "almuerzo", "comida", "descanso",
        # it
        "intervallo", "ricreazione", "pranzo", "mensa",
        # nl
        "pauze", "middagpauze", "kleine pauze", "grote pauze", "lunchpauze",
        # pt
        "intervalo", "almoco", "lanche",
    }
)
# Folded names of non-lesson slots (registration, assembly, tutor time, clubs, home time).
OTHER_TERMS: frozenset[str] = frozenset(
    {
        # en
        "registration", "register", "assembly", "tutor", "tutor time", "tutor group", "form time",
        "form period", "homeroom", "home room", "club", "clubs", "pastoral", "dismissal", "dismissed",
        "home time", "home", "storytime", "story time", "pack up", "tidy up", "morning work",
        "early morning work", "arrival", "bell", "mentoring",
        # de
        "versammlung", "klassenrat", "klassenstunde", "klassenleiterstunde", "morgenkreis", "ag",
        # fr
        "appel", "vie de classe", "heure de vie de classe", "rassemblement",
        # es
        "tutoria", "asamblea",
        # it
        "assemblea", "appello",
        # nl
        "mentoruur", "mentorles", "studie-uur",
        # pt
        "chamada", "assembleia",
    }
)


def misread_slot_term(word: str, shortest: int) -> tuple[str, str] | None:
    """(kind, term) of the registration or break word, ``shortest`` letters or more, that the folded
    ``word`` is one letter off (OCR's usual slip: 'Registraton', 'Brak'), or None."""
    for kind, terms in (("other", OTHER_TERMS), ("break", BREAK_TERMS)):
        term = next((t for t in sorted(terms) if len(t) >= shortest and one_edit_apart(word, t)), None)
        if term is not None:
            return kind, term
    return None

# Titles printed before a teacher's name, as a regular-expression alternation (case as printed).
# Italian feminine titles come with or without their dot, and OCR may read a space in its place.
TITLE_WORDS = (
    r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof\.?\s?ssa|Profa|Prof|Dott\.?\s?ssa|Dott|Sir|Herr|Frau|Hr|Fr|Fräulein|M|Mme|Mlle|Mmes|"
    r"Sr|Sra|Srta|Sig|Sig\.?\s?ra|"
    r"Dhr|Mevr|Mw|Dña|Don|Dona|Sre|Pfr|"
    r"Bpk|Bapak|Pak|Ibu|Bu|Pan|Pani|Lic|Ing|Mtro|Mtra|Profª|Prof\.ª"
)

# Folded words that name a room or place ('Lab 2', 'Sporthalle', 'Salle 12').
ROOM_WORDS = frozenset(
    {
        "room", "rm", "lab", "labs", "laboratory", "hall", "studio", "gym", "gymnasium", "workshop", "library",
        "field", "pitch", "court", "pool", "theatre", "theater", "auditorium", "suite", "ict", "classroom",
        "raum", "saal", "halle", "turnhalle", "sporthalle", "aula", "labor", "zimmer", "werkraum",
        "salle", "gymnase", "cdi", "sala", "laboratorio", "gimnasio", "palestra", "lokaal", "gymzaal",
        "biblioteca", "bibliotheek", "bibliothek", "bibliotheque", "mediatheque", "mediatheek", "mediathek",
        "mediateca", "aula magna", "atelier",
        # Sports halls: Portuguese, Spanish, Dutch.
        "pavilhao", "ginasio", "quadra", "pabellon", "polideportivo", "sporthal",
    }
)
# Upper-case codes that may start a room's name ('DT Workshop', 'ICT Suite') without being a teacher code.
_ROOM_CODES_OK = frozenset({"ICT", "IT", "PC", "DT", "CDI", "LRC", "PE", "MFL", "IC"})
# Endings of compound room words in German and Dutch ('Musikraum', 'Gymzaal').
ROOM_SUFFIXES = ("raum", "saal", "halle", "zimmer", "lokaal", "zaal")
# Words that make '<word> <number>' something other than a room ('Week 2', 'Station 5').
_NOT_ROOM_WORDS = frozenset(
    {"week", "year", "yr", "term", "unit", "set", "page", "lesson", "period", "test", "ks", "p", "group",
     "station", "level", "part", "day", "block", "key", "std", "stunde", "woche", "semaine", "jahr", "klasse",
     "class", "no", "nr", "sentence", "stack", "stacking", "chapter", "step", "grade"}
)
# Printed subject abbreviations that look like teacher codes.
SUBJECT_CODES = frozenset(
    {"PE", "RE", "RS", "DT", "ICT", "IT", "CS", "PSHE", "PHSE", "PSE", "RSE", "RHE", "RSHE", "SRE", "TTRS",
     "RWI", "SPAG", "MFL", "EAL", "GCSE", "BTEC", "STEM", "ART", "FT", "HE", "CDT", "SMSC", "EPQ", "PDL",
     "SEND", "ESL", "EFL", "KS", "PHE", "BK", "GE", "EN", "MA", "SP", "PSED", "UTW", "EAD", "CLL", "PD",
     "LA", "MU", "SPORT", "LRC", "AG", "SU", "WPU", "IB", "PSP", "PC", "ETH", "REL", "ENG", "MAT", "BIO",
     "CHE", "PHY", "GEO", "HIS", "FRE", "GER", "SPA", "LAT", "MUS", "DRA", "COM", "SCI"}
)

# Words common enough in timetables to decide a join without the document's help.
COMMON_WORDS = frozenset(
    w.casefold()
    for w in ["English", "Maths", "Math", "Mathematics", "Science", "Biology", "Chemistry", "Physics", "History", "Geography", "French", "German", "Spanish", "Italian", "Latin", "Music", "Drama", "Art", "Design", "Technology", "Computing", "Computer", "Studies", "Business", "Economics", "Religious", "Education", "Physical", "Citizenship", "Literature", "Language", "Reading", "Writing", "Phonics", "Spelling", "Spellings", "Handwriting", "Comprehension", "Assembly", "Registration", "Break", "Lunch", "Lesson", "Period", "Library", "Science", "Sociology", "Psychology", "Statistics", "Further", "Food", "Nutrition", "Media", "Philosophy", "Ethics", "Deutsch", "Mathe", "Englisch", "Französisch", "Erdkunde", "Geschichte", "Physik", "Chemie", "Biologie", "Musik", "Kunst", "Sport", "Religion", "Informatik", "Politik", "Wirtschaft", "Latein", "Spanisch", "Ethik", "Pause", "Mittagspause", "Mathématiques", "Français", "Anglais", "Histoire", "Géographie", "Musique", "Physique", "Chimie", "Espagnol", "Allemand", "Matemáticas", "Lengua", "Inglés", "Historia", "Música", "Física", "Química", "Biología", "Matematica", "Italiano", "Inglese", "Storia", "Geografia", "Musica", "Fisica", "Chimica", "Scienze", "Wiskunde", "Nederlands", "Engels", "Geschiedenis", "Aardrijkskunde", "Muziek", "Natuurkunde", "Scheikunde"]
)

# Short words that are whole words, never the tail of a broken one.
FUNCTION_WORDS = frozenset(
    ["a", "an", "and", "as", "at", "by", "for", "in", "of", "off", "on", "or", "the", "to", "up", "with", "am", "im", "in", "und", "der", "die", "das", "de", "du", "la", "le", "les", "et", "el", "y", "en", "los", "del", "e", "il", "di", "da", "van", "het", "een", "op", "te"]
)
