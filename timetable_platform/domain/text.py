"""Small text normalisers shared by the time, day and cell parsers (pure, no I/O)."""

from __future__ import annotations

import re
import unicodedata

# Every dash a document may print for a range or a separator.
DASHES = "-‐‑‒–—―−﹘﹣－"
_DASH_TABLE = {ord(c): "-" for c in DASHES if c != "-"}
# Spaces that are not ASCII spaces (no-break, thin, figure ...).
_SPACE_TABLE = {ord(c): " " for c in "\u00a0\u2007\u2009\u200a\u202f\u2002\u2003\u2004\u2005\u2006\u3000"}
_ZERO_WIDTH_TABLE = {ord(c): None for c in "\u200b\u200c\u200d\ufeff\u00ad"}
_WHITESPACE_RUN = re.compile(r"[ \t\r\f\v]+")
_ANY_WHITESPACE_RUN = re.compile(r"\s+")


def same_length_normalise(text: str) -> str:
    """Dashes to '-', exotic spaces to ' ', keeping every character position (spans stay valid)."""
    return text.translate(_DASH_TABLE).translate(_SPACE_TABLE)


def nfkc(text: str) -> str:
    """NFKC form without zero-width characters and soft hyphens."""
    return unicodedata.normalize("NFKC", text.translate(_ZERO_WIDTH_TABLE))


def normalise_dashes(text: str) -> str:
    return text.translate(_DASH_TABLE)


def tidy_whitespace(text: str, *, keep_newlines: bool = False) -> str:
    """Collapse runs of whitespace to one space (or keep line breaks, tidying each line)."""
    text = text.translate(_SPACE_TABLE)
    if keep_newlines:
        lines = (_WHITESPACE_RUN.sub(" ", line).strip() for line in text.splitlines())
        return "\n".join(line for line in lines if line)
    return _ANY_WHITESPACE_RUN.sub(" ", text).strip()


def clean(text: str) -> str:
    """NFKC, unified dashes, single spaces: the form parsers compare against."""
    return tidy_whitespace(normalise_dashes(nfkc(text)))


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Case- and accent-insensitive key: 'Mié.' -> 'mie.', 'lunedì' -> 'lunedi', 'Große' -> 'grosse'."""
    return strip_accents(nfkc(text)).casefold()


def words(text: str) -> list[str]:
    """Folded alphabetic words of a text (letters only; digits and punctuation split words)."""
    return re.findall(r"[^\W\d_]+", fold(text))


def one_edit_apart(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one letter replaced, dropped or added (OCR's usual slip)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
