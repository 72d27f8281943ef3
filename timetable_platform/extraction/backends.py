"""The one place that turns a backend name into an extraction stage (the resources and the CLI use it).

``layout``: embedded | documentai; ``interpreter``: embedded | claude. Cloud backends read their
configuration (project, processor, API key, model...) from ``Settings``.
"""

from __future__ import annotations

from typing import Any

from timetable_platform.extraction.base import Interpreter, LayoutExtractor, StageResult
from timetable_platform.settings import Settings

LAYOUT_BACKENDS = ("embedded", "documentai")
INTERPRETER_BACKENDS = ("embedded", "claude")
# Backends that call a paid API: their Dagster steps run in a concurrency pool of that name.
PAID_BACKENDS = ("documentai", "claude")


def layout_extractor(backend: str, settings: Settings | None = None, **options: Any) -> LayoutExtractor:
    if backend == "embedded":
        from timetable_platform.extraction.embedded import EmbeddedLayoutExtractor

        return EmbeddedLayoutExtractor()
    if backend == "documentai":
        from timetable_platform.extraction.documentai import DocumentAILayoutExtractor

        return DocumentAILayoutExtractor.from_settings(settings or Settings(), **options)
    raise ValueError(f"unknown layout backend {backend!r} (one of {', '.join(LAYOUT_BACKENDS)})")


def interpreter(backend: str, settings: Settings | None = None, **options: Any) -> Interpreter:
    if backend == "embedded":
        from timetable_platform.extraction.textstream import TextStreamInterpreter

        return TextStreamInterpreter()
    if backend == "claude":
        from timetable_platform.extraction.claude import ClaudeInterpreter

        return ClaudeInterpreter.from_settings(settings or Settings(), **options)
    raise ValueError(f"unknown interpreter backend {backend!r} (one of {', '.join(INTERPRETER_BACKENDS)})")


def layout_extractor_from_settings(settings: Settings) -> LayoutExtractor:
    return layout_extractor(settings.layout_backend, settings)


def interpreter_from_settings(settings: Settings) -> Interpreter:
    return interpreter(settings.interpreter_backend, settings)


def merge_weights(layout_stage: StageResult, interpreter_stage: StageResult | None) -> tuple[float, float]:
    """(primary, secondary) merge weights: each paid source weighs by its own mean confidence.

    Claude reports a fixed prior (``claude.CLAUDE_ENTRY_CONFIDENCE``), so it overrules a cell only where
    Document AI itself was unsure (low OCR confidence on a scan). Two embedded readers keep equal
    weights: the merge's confidence was calibrated on them that way.
    """
    stages = [layout_stage] if interpreter_stage is None else [layout_stage, interpreter_stage]
    if not any(stage.backend.split(":")[0] in PAID_BACKENDS for stage in stages):
        return 1.0, 1.0
    primary = layout_stage.mean_confidence
    secondary = interpreter_stage.mean_confidence if interpreter_stage is not None else None
    return (primary if primary is not None else 1.0, secondary if secondary is not None else 1.0)
