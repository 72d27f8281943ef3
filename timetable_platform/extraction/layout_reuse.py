"""When a stored layout may stand in for reading the document again: same bytes, same readers.

A re-run of an upload (a backfill after an extractor change, a reprocess) reads its document again,
and for a photo or a scan the reading (Tesseract) is most of its CPU. The layout the last run read is
already stored with the upload (``results/{id}/document_ai.json``, ``stage_codec``); it is reused only
when it is stamped with the same document checksum and the same ``reader_version()``, so only the
interpretation runs again. It lives under the upload's own results, so erasure and retention reach it.

``reader_version()`` is a checksum of everything a layout depends on: the source of every platform
module the readers import (followed through imports, function-level ones included: a change to a
reader, the OCR engine or their helpers makes every stored layout stale), the layout's JSON format,
the versions of the reading libraries, the Tesseract binary and the OCR languages. Limits are part of
the stamp (a larger page limit reads more pages).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from timetable_platform.extraction.base import Limits

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # timetable_platform/
READER_ROOTS = ("extraction/readers", "extraction/ocr")
# The third-party libraries the readers read with: another version may read other words or boxes.
READING_LIBRARIES = (
    "pdfplumber", "pdfminer.six", "pypdfium2", "python-docx", "openpyxl", "lxml", "numpy", "pillow",
    "opencv-python-headless", "opencv-python", "pytesseract", "tesserocr",
)  # fmt: skip
STAMP_KEY = "read_by"


# `from timetable_platform.x import a, b` (parenthesised over lines too) and `import timetable_platform.x`,
# at any indentation (function-level imports count). A regex, not ast: parsing the closure cost 0.2 s
# of every run worker's start.
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(timetable_platform[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)"
    r"|import[ \t]+(timetable_platform[\w.]*))",
    re.M,
)


def _imported_modules(path: Path) -> set[str]:
    """``timetable_platform`` modules imported anywhere in ``path`` (function-level imports too)."""
    found: set[str] = set()
    for match in _IMPORT.finditer(path.read_text()):
        module, names, plain = match.groups()
        if plain:
            found.add(plain)
            continue
        found.add(module)
        for name in re.findall(r"[A-Za-z_]\w*", re.sub(r"#[^\n]*", "", names)):
            if name != "as":
                found.add(f"{module}.{name}")  # `from package import module`
    return found


def _module_file(module: str) -> Path | None:
    relative = Path(*module.split(".")[1:])
    for candidate in (PACKAGE_ROOT / relative.with_suffix(".py"), PACKAGE_ROOT / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def reader_sources() -> list[Path]:
    """The readers' source files and every platform module they import, transitively."""
    pending = [p for root in READER_ROOTS for p in sorted((PACKAGE_ROOT / root).glob("*.py"))]
    seen: set[Path] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imported_modules(path):
            found = _module_file(module)
            if found is not None and found not in seen:
                pending.append(found)
    return sorted(seen)


def _tesseract_version() -> str:
    binary = shutil.which("tesseract")
    if binary is None:
        return "no tesseract"
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "tesseract unknown"
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else "tesseract unknown"


def _library_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "-"


@lru_cache(maxsize=1)
def reader_version() -> str:
    from timetable_platform.extraction.stage_codec import LAYOUT_FORMAT
    from timetable_platform.settings import get_settings

    digest = hashlib.sha256()
    for path in reader_sources():
        digest.update(str(path.relative_to(PACKAGE_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for name in READING_LIBRARIES:
        digest.update(f"{name}={_library_version(name)}\0".encode())
    digest.update(f"layout-format={LAYOUT_FORMAT}\0{_tesseract_version()}\0".encode())
    digest.update(f"ocr={get_settings().ocr_languages}\0".encode())
    return digest.hexdigest()[:16]


def stamp(sha256: str, limits: Limits) -> dict[str, Any]:
    """What a stored layout is stamped with: the document and the readers that read it."""
    return {
        "sha256": sha256,
        "reader_version": reader_version(),
        "limits": list(dataclasses.astuple(limits)),
    }


def reusable(stored: dict[str, Any] | None, sha256: str, limits: Limits) -> bool:
    """Whether a stored layout candidate was read from these bytes by these readers, under these limits."""
    if not stored or stored.get("layout") is None:
        return False
    return stored.get(STAMP_KEY) == stamp(sha256, limits)
