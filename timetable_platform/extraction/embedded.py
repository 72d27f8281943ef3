"""The embedded layout stage ("Document AI" stand-in): local readers, then the geometry interpreter."""

from __future__ import annotations

import time

from timetable_platform.domain.layout import Layout
from timetable_platform.extraction.base import Document, Limits, StageResult
from timetable_platform.reading.interpret import interpret


class EmbeddedLayoutExtractor:
    """Reads the document with the local readers (pdfplumber, python-docx, openpyxl, Tesseract) and
    interprets the layout with ``reading.interpret``. ``backend`` in the result names the reader used."""

    name = "embedded"

    def extract(self, document: Document, limits: Limits) -> StageResult:
        # Imported here so that the domain and this module load without the readers' heavy dependencies.
        from timetable_platform.extraction.readers import read_layout

        started = time.perf_counter()
        return interpreted_stage(read_layout(document, limits), backend=self.name, started=started)


def interpreted_stage(layout: Layout, *, backend: str, started: float) -> StageResult:
    """The layout stage's result for a layout read since ``started`` (``time.perf_counter``)."""
    from timetable_platform.extraction.split import read_parts, together

    # A school-wide document is read part by part only: reading 30 classes as one table set costs
    # as much again and its reading is not used.
    parts = read_parts(layout) or []
    timetable = together(parts) if parts else interpret(layout)
    for entry in timetable.entries:
        if entry.confidence is None:
            entry.confidence = 1.0
    return StageResult(
        timetable=timetable,
        backend=f"{backend}:{layout.reader}",
        seconds=time.perf_counter() - started,
        layout=layout,
        pages=len(layout.pages) or None,
        warnings=[*layout.warnings],
        parts=parts,
    )
