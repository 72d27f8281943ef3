"""The two extraction stages as Dagster resources: ``backend`` picks the implementation.

Backends are built by ``extraction.backends`` (the one place that branches on the choice); cloud
backends read their configuration from settings, where ``overrides`` win over the environment.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from timetable_platform.extraction.base import Interpreter, LayoutExtractor, Limits
from timetable_platform.settings import Settings


class LayoutExtractionResource(dg.ConfigurableResource):
    """Stage A ("Document AI"): reads the document's geometry into a first candidate timetable."""

    backend: str = Field(default="embedded", description="embedded | documentai")
    max_bytes: int = 20 * 1024 * 1024
    max_pages: int = 40
    max_pixels: int = 60_000_000
    retry_base_seconds: float = Field(default=2.0, description="first delay of the exponential backoff")
    max_retries: int = 4
    reuse_layouts: bool = Field(
        default=True, description="re-runs interpret the layout stored by the last run when read by the same readers"
    )
    overrides: dict[str, str] = Field(default_factory=dict, description="TIMETABLE_* settings for cloud backends")

    @classmethod
    def from_settings(cls, settings: Settings) -> LayoutExtractionResource:
        return cls(
            backend=settings.layout_backend,
            max_bytes=settings.max_upload_bytes,
            max_pages=settings.max_pages,
            max_pixels=settings.max_pixels,
            reuse_layouts=settings.layout_reuse,
        )

    def limits(self) -> Limits:
        return Limits(max_bytes=self.max_bytes, max_pages=self.max_pages, max_pixels=self.max_pixels)

    def layout_extractor(self) -> LayoutExtractor:
        from timetable_platform.extraction import backends

        try:
            return backends.layout_extractor(self.backend, Settings(**self.overrides))  # type: ignore[arg-type]
        except ValueError as exc:
            raise dg.DagsterInvariantViolationError(str(exc)) from exc


class InterpretationResource(dg.ConfigurableResource):
    """Stage B ("Claude"): an independent reading of the document, merged with stage A."""

    backend: str = Field(default="embedded", description="embedded | claude")
    fallback_threshold: float = Field(
        default=0.85, ge=0, le=1, description="fallback mode runs this stage only under this mean confidence"
    )
    retry_base_seconds: float = 2.0
    max_retries: int = 4
    reuse_layouts: bool = Field(
        default=True, description="re-runs interpret the layout stored by the last run when read by the same readers"
    )
    overrides: dict[str, str] = Field(default_factory=dict, description="TIMETABLE_* settings for cloud backends")

    @classmethod
    def from_settings(cls, settings: Settings) -> InterpretationResource:
        return cls(backend=settings.interpreter_backend, fallback_threshold=settings.fallback_threshold)

    def interpreter(self) -> Interpreter:
        from timetable_platform.extraction import backends

        try:
            return backends.interpreter(self.backend, Settings(**self.overrides))  # type: ignore[arg-type]
        except ValueError as exc:
            raise dg.DagsterInvariantViolationError(str(exc)) from exc
