"""The two extraction stages behind small interfaces (DESIGN.md: "Document AI" and "Claude").

``LayoutExtractor`` reads geometry (candidate A); ``Interpreter`` reads the document
independently (candidate B), optionally seeing candidate A as context. Embedded and
cloud backends implement the same protocols; ``pipeline.extract`` combines them by mode.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from timetable_platform.domain.layout import Layout
from timetable_platform.domain.model import Timetable

Mode = Literal["hybrid", "document_ai", "fallback"]
MODES: tuple[Mode, ...] = ("hybrid", "document_ai", "fallback")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024
    max_pages: int = 40  # a school-wide print holds a page per class
    max_pixels: int = 60_000_000  # per image / rendered page; above this is treated as a decompression bomb
    max_zip_entry_bytes: int = 100 * 1024 * 1024  # uncompressed size of one DOCX/XLSX part
    max_zip_ratio: float = 200.0  # uncompressed / compressed, per part


@dataclass(frozen=True)
class Document:
    """One uploaded document: its bytes and the media type sniffed from them (not from the name)."""

    content: bytes
    media_type: str
    filename: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class StageResult:
    """What one stage produced, with the figures every run records."""

    timetable: Timetable
    backend: str
    seconds: float
    layout: Layout | None = None
    pages: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    warnings: list[str] = field(default_factory=list)
    # A school-wide document's parts as the layout stage read them (``extraction.split.PartReading``);
    # None when not known (a stage read back from JSON), empty when the document is one timetable.
    parts: list[Any] | None = None

    @property
    def mean_confidence(self) -> float | None:
        values = [e.confidence for e in self.timetable.entries if e.confidence is not None]
        return sum(values) / len(values) if values else None


@runtime_checkable
class LayoutExtractor(Protocol):
    name: str

    def extract(self, document: Document, limits: Limits) -> StageResult: ...


@runtime_checkable
class Interpreter(Protocol):
    name: str

    def extract(self, document: Document, limits: Limits, context: StageResult | None = None) -> StageResult: ...


@dataclass
class ExtractionResult:
    """``timetable`` is THE timetable of a one-timetable document; for a school-wide one it holds every
    part's entries together and ``timetables`` holds the parts (one per owner)."""

    timetable: Timetable
    mode: Mode
    layout_stage: StageResult
    interpreter_stage: StageResult | None = None
    timetables: list[Timetable] = field(default_factory=list)

    @property
    def many(self) -> bool:
        return len(self.timetables) > 1

    def parts(self) -> list[Timetable]:
        """The document's timetables: one per owner, or the one timetable."""
        return self.timetables if self.many else [self.timetable]

    def to_json_dict(self) -> dict[str, Any]:
        """Schema version 1 for one timetable, version 2 for several."""
        from timetable_platform.domain.school import result_json

        if not self.many:
            return self.timetable.to_json_dict()
        return result_json(self.timetables, source=self.timetable.source, warnings=self.timetable.warnings)

    @property
    def backends(self) -> list[str]:
        out = [self.layout_stage.backend]
        if self.interpreter_stage is not None:
            out.append(self.interpreter_stage.backend)
        return out
