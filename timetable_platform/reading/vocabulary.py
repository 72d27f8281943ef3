"""Words that name things in timetables, in many languages: column roles of record tables, labels of
room / teacher / group lines in grids. Day and month names are not here: they come from CLDR
(``domain.days``). Everything is folded (lower case, no accents), as ``domain.text.fold`` gives it.
"""

from __future__ import annotations

import re

from timetable_platform.domain.text import fold

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
