"""Errors a user can act on. Every failure of extraction is one of these, never a bare traceback."""

from __future__ import annotations


class ExtractionError(Exception):
    """A document could not be turned into a timetable; ``code`` is stable, ``str()`` is for people."""

    code = "extraction_failed"
    http_status = 422

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class UnsupportedType(ExtractionError):
    code = "unsupported_type"
    http_status = 415


class TooLarge(ExtractionError):
    """Over the size, page or pixel limit (or a zip/decompression bomb)."""

    code = "too_large"
    http_status = 413


class CorruptDocument(ExtractionError):
    code = "corrupt_document"


class EncryptedDocument(ExtractionError):
    code = "encrypted_document"


class EmptyDocument(ExtractionError):
    code = "empty_document"


class NoTimetableFound(ExtractionError):
    code = "no_timetable_found"


class BackendError(ExtractionError):
    """A backend (OCR engine, Document AI, Claude) failed; ``transient`` says whether a retry may help."""

    code = "backend_error"
    http_status = 502

    def __init__(self, message: str, *, detail: str | None = None, transient: bool = False) -> None:
        super().__init__(message, detail=detail)
        self.transient = transient
