"""THE extraction path: bytes in, ``ExtractionResult`` out. The CLI, the Dagster assets and the API call this.

Modes (DESIGN.md): ``hybrid`` runs the layout stage and the interpreter and merges them; ``document_ai``
runs the layout stage only; ``fallback`` runs the interpreter only when the layout stage is unsure.
"""

from __future__ import annotations

import logging
from pathlib import Path

from timetable_platform.domain.model import Source, Timetable
from timetable_platform.domain.review import heading_or_none
from timetable_platform.extraction.base import (
    Document,
    ExtractionResult,
    Interpreter,
    LayoutExtractor,
    Limits,
    Mode,
    StageResult,
)
from timetable_platform.extraction.errors import ExtractionError, NoTimetableFound, TooLarge
from timetable_platform.extraction.safety import check_pages
from timetable_platform.reading.plausibility import (
    adjust_confidence,
    without_legends,
    without_unplaced_repeats,
)
from timetable_platform.reading.spelling import consolidate_spellings

log = logging.getLogger(__name__)

# Media types whose page count is meaningful in ``source.pages`` (office formats have no pages).
_PAGED_PREFIXES = ("application/pdf", "image/")


def load_document(source: Path | bytes, *, filename: str | None = None, limits: Limits) -> Document:
    """Read a document and sniff its type from its content; size is checked before anything is parsed."""
    from timetable_platform.extraction.sniff import sniff_media_type

    if isinstance(source, Path):
        try:
            size = source.stat().st_size
        except FileNotFoundError as exc:
            raise ExtractionError(f"file not found: {source}") from exc
        except OSError as exc:
            raise ExtractionError(f"cannot read {source}: {exc.strerror or exc}") from exc
        if source.is_dir():
            raise ExtractionError(f"{source} is a directory, not a document")
        if size > limits.max_bytes:
            raise TooLarge(f"document is {size} bytes, over the limit of {limits.max_bytes}")
        try:
            content = source.read_bytes()
        except OSError as exc:
            raise ExtractionError(f"cannot read {source}: {exc.strerror or exc}") from exc
        filename = filename or source.name
    else:
        content = bytes(source)
        if len(content) > limits.max_bytes:
            raise TooLarge(f"document is {len(content)} bytes, over the limit of {limits.max_bytes}")
    media_type = sniff_media_type(content, filename)
    return Document(content=content, media_type=media_type, filename=filename)


def _default_interpreter() -> Interpreter:
    from timetable_platform.extraction.textstream import TextStreamInterpreter

    return TextStreamInterpreter()


def _merge(primary: Timetable, secondary: Timetable | None, weights: tuple[float, float] = (1.0, 1.0)) -> Timetable:
    from timetable_platform.domain.merge import merge_candidates

    return merge_candidates(primary, secondary, primary_weight=weights[0], secondary_weight=weights[1])


def interpreter_skip_reason(mode: str, layout_stage: StageResult, fallback_threshold: float) -> str | None:
    """Why the interpreter stage does not run for this mode and layout reading (None: it runs)."""
    if mode == "document_ai":
        return "mode document_ai runs the layout extractor only"
    if mode == "fallback":
        confidence = layout_stage.mean_confidence
        if layout_stage.timetable.entries and confidence is not None and confidence >= fallback_threshold:
            return f"mode fallback: layout confidence {confidence:.2f} >= {fallback_threshold}"
    return None


def reconcile(
    layout_stage: StageResult,
    interpreter_stage: StageResult | None,
    *,
    mode: str,
    filename: str | None,
    media_type: str,
    sha256: str,
) -> Timetable:
    """The upload's timetable from the stages' readings: merged, scored, with its source and warnings.

    Shared by ``extract`` and the Dagster assets, which run the stages as separate steps. Raises
    ``NoTimetableFound`` with the reason when neither reading holds an entry.
    """
    from timetable_platform.extraction.backends import merge_weights

    primary = layout_stage.timetable
    if interpreter_stage is None and layout_stage.layout is not None:
        # No second reader ran (document_ai mode): the word stream of the same layout is read too.
        # It stands in for a table reading that found nothing, or that lost most of the table (places
        # far fewer blocks in day and time, as the merge judges in hybrid mode); otherwise it is unused.
        from timetable_platform.domain.merge import places_far_fewer
        from timetable_platform.reading.textstream import read_text_stream

        stream = read_text_stream(layout_stage.layout)
        if stream.entries and (not primary.entries or places_far_fewer(primary.entries, stream.entries)):
            interpreter_stage = StageResult(timetable=stream, backend="embedded:textstream", seconds=0.0)
    if interpreter_stage is None or not interpreter_stage.timetable.entries:
        # In hybrid mode an unconfirmed reading is scored as such (the merge's single-reader confidence).
        timetable = _merge(primary, None) if mode == "hybrid" else primary
    elif not primary.entries:
        timetable = _merge(primary, interpreter_stage.timetable)  # the second reading alone, scored so
    else:  # hybrid, or fallback with an unsure layout stage: the merge weighs both by their confidence
        timetable = _merge(primary, interpreter_stage.timetable, merge_weights(layout_stage, interpreter_stage))

    unchecked = timetable is primary  # no merge scored it (document_ai mode, or fallback left alone)
    if not timetable.entries:
        reasons = [*primary.warnings, *layout_stage.warnings]
        reason = "; ".join(dict.fromkeys(reasons)) or "no day and time structure was recognised"
        raise NoTimetableFound(f"no timetable found: {reason}", detail=reason)

    timetable = timetable.model_copy(deep=True)
    without_unplaced_repeats(timetable)
    without_legends(timetable)
    # Document-level doubt (debris read as names, blocks that lost their times) and the OCR ceiling.
    ocr = media_type.startswith("image/") or layout_stage.backend.endswith("tesseract")
    if ocr:
        consolidate_spellings(timetable)
    adjust_confidence(timetable, ocr=ocr, single_reading=unchecked)
    # A reader may take a line of prose for the title: keep a heading or nothing.
    timetable.title = heading_or_none(timetable.title)
    pages = None
    if media_type.startswith(_PAGED_PREFIXES):
        pages = layout_stage.pages or (interpreter_stage.pages if interpreter_stage else None)
    timetable.source = Source(filename=filename, media_type=media_type, pages=pages, sha256=sha256)
    stage_warnings = [*layout_stage.warnings, *(interpreter_stage.warnings if interpreter_stage else [])]
    timetable.warnings = list(dict.fromkeys([*timetable.warnings, *stage_warnings]))
    return timetable


def _run_interpreter(
    interpreter: Interpreter | None, document: Document, limits: Limits, context: StageResult | None
) -> StageResult | None:
    if interpreter is None:
        return None
    try:
        return interpreter.extract(document, limits, context)
    except NoTimetableFound:
        return None
    except ExtractionError as exc:
        if context is None:
            raise
        # The layout stage already has an answer; a failing second opinion becomes a warning.
        context.warnings.append(f"{interpreter.name} failed: {exc.message}")
        return None
    except Exception as exc:  # a bug in the second reader must not lose the first reader's answer
        if context is None:
            raise
        log.exception("interpreter %s crashed", interpreter.name)
        context.warnings.append(f"{interpreter.name} failed: {type(exc).__name__}")
        return None


def extract(
    document: Document,
    *,
    mode: Mode = "hybrid",
    limits: Limits | None = None,
    layout_extractor: LayoutExtractor | None = None,
    interpreter: Interpreter | None = None,
    fallback_threshold: float = 0.85,
) -> ExtractionResult:
    """Extract a timetable from ``document`` with the stages ``mode`` asks for.

    Raises ``NoTimetableFound`` (with the reason) when nothing timetable-like is found, ``TooLarge`` over
    ``limits.max_pages`` (before any stage runs), and the other ``ExtractionError`` subclasses for
    unreadable input.
    """
    limits = limits or Limits()
    # Here rather than in each backend: Document AI and Claude would otherwise be sent (and bill) every page.
    check_pages(document.content, document.media_type, limits)
    if layout_extractor is None:
        from timetable_platform.extraction.embedded import EmbeddedLayoutExtractor

        layout_extractor = EmbeddedLayoutExtractor()
    if interpreter is None and mode != "document_ai":
        interpreter = _default_interpreter()

    layout_stage = layout_extractor.extract(document, limits)
    interpreter_stage: StageResult | None = None
    if interpreter_skip_reason(mode, layout_stage, fallback_threshold) is None:
        if layout_stage.parts and getattr(interpreter, "name", None) == "textstream" and layout_stage.layout:
            # A school-wide document: the text stream reads each part (extraction.split), not the whole.
            interpreter_stage = StageResult(
                timetable=Timetable(), backend=f"textstream:{layout_stage.layout.reader}", seconds=0.0,
                layout=layout_stage.layout, pages=layout_stage.pages,
            )  # fmt: skip
        else:
            interpreter_stage = _run_interpreter(interpreter, document, limits, layout_stage)
    timetable = reconcile(
        layout_stage,
        interpreter_stage,
        mode=mode,
        filename=document.filename,
        media_type=document.media_type,
        sha256=document.sha256,
    )
    result = ExtractionResult(
        timetable=timetable, mode=mode, layout_stage=layout_stage, interpreter_stage=interpreter_stage
    )
    from timetable_platform.extraction import split  # split imports this module

    parts = split.split_timetables(
        layout_stage, interpreter_stage, mode=mode, filename=document.filename,
        media_type=document.media_type, sha256=document.sha256,
    )  # fmt: skip
    if parts:
        result.timetables = parts
        result.timetable = split.combined(parts, timetable)
    return result


def extract_path(
    path: Path | str, *, mode: Mode = "hybrid", limits: Limits | None = None
) -> ExtractionResult:
    """Load ``path`` and extract it: the convenience the CLI and tests use."""
    limits = limits or Limits()
    document = load_document(Path(path), limits=limits)
    return extract(document, mode=mode, limits=limits)
