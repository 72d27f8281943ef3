"""School subject names that are whole names on their own, in the languages the engine reads.

A cell line that is exactly one of these ('History', 'Mathe', 'Ciencias') is a complete subject: the
lines below it describe the lesson (the day's topic) or give its fields, they do not continue the name.
Words that only start a name ('Physical', 'Design', 'Religious') are not here. Folded (lower case, no
accents), as ``domain.text.fold`` gives them.
"""

from __future__ import annotations

WHOLE_SUBJECT_NAMES: frozenset[str] = frozenset(
    {
        # en
        "maths", "math", "mathematics", "english", "science", "biology", "chemistry", "physics", "history",
        "geography", "french", "german", "spanish", "italian", "latin", "music", "drama", "art", "computing",
        "ict", "pe", "re", "rs", "pshe", "phse", "rshe", "citizenship", "literacy", "numeracy", "phonics",
        "reading", "writing", "spelling", "spellings", "handwriting", "comprehension", "dance", "gymnastics",
        "swimming", "games", "economics", "business", "sociology", "psychology", "philosophy", "statistics",
        "technology", "geology", "astronomy", "engineering", "accounting", "law", "politics", "media",
        # de
        "mathe", "mathematik", "deutsch", "englisch", "franzosisch", "spanisch", "latein", "erdkunde",
        "geschichte", "physik", "chemie", "biologie", "musik", "kunst", "sport", "religion", "ethik",
        "informatik", "politik", "wirtschaft",
        # fr
        "mathematiques", "francais", "anglais", "allemand", "espagnol", "histoire", "geographie", "musique",
        "physique", "chimie", "svt", "eps", "technologie", "philosophie",
        # es / pt / it
        "matematicas", "lengua", "ingles", "historia", "musica", "fisica", "quimica", "biologia", "ciencias",
        "matematica", "portugues", "geografia", "italiano", "inglese", "storia", "chimica", "scienze",
        "informatica", "religione",
        # nl
        "wiskunde", "nederlands", "engels", "geschiedenis", "aardrijkskunde", "muziek", "natuurkunde",
        "scheikunde",
    }
)  # fmt: skip
