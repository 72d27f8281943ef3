"""The embedded interpreter stage ("Claude" stand-in): reads the words' text stream, not the table cells.

It reuses the layout the first stage already read (``context.layout``) and only reads the document
itself when run alone, so hybrid mode pays for one read and OCR pass.
"""

from __future__ import annotations

import logging
import time

from timetable_platform.extraction.base import Document, Limits, StageResult
from timetable_platform.extraction.errors import BackendError, NoTimetableFound
from timetable_platform.reading.textstream import read_text_stream

log = logging.getLogger(__name__)


class TextStreamInterpreter:
    """``Interpreter`` protocol: an independent second reading of the document's text and positions."""

    name = "textstream"

    def extract(self, document: Document, limits: Limits, context: StageResult | None = None) -> StageResult:
        started = time.perf_counter()
        layout = context.layout if context is not None and context.layout is not None else None
        if layout is None:
            from timetable_platform.extraction.readers import read_layout

            layout = read_layout(document, limits)
        try:
            timetable = read_text_stream(layout)
        except Exception as exc:
            # A fault in the second opinion must not sink an upload the first stage has read; the
            # pipeline turns this into a warning beside the first stage's result.
            log.exception("text-stream reader failed on %s", document.filename or "document")
            raise BackendError(f"text-stream reader failed: {type(exc).__name__}") from exc
        if not timetable.entries:
            reason = "; ".join(timetable.warnings) or "no timetable structure in the text"
            raise NoTimetableFound(f"no timetable found: {reason}", detail=reason)
        return StageResult(
            timetable=timetable,
            backend=f"{self.name}:{layout.reader}",
            seconds=time.perf_counter() - started,
            layout=layout,
            pages=len(layout.pages) or None,
            warnings=list(timetable.warnings),
        )
