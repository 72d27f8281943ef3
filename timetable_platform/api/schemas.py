"""Response and request bodies of the API, with the examples shown in the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from timetable_platform.extraction.base import Mode

UPLOAD_ID_EXAMPLE = "3f2a9c1e8b7d4e6fa0c5d2b1e9f8a7c6"
LINKS_EXAMPLE = {
    "self": f"/api/v2/timetable/uploads/{UPLOAD_ID_EXAMPLE}",
    "timetable": f"/api/v2/timetable/uploads/{UPLOAD_ID_EXAMPLE}/timetable",
    "view": f"/api/v2/timetable/uploads/{UPLOAD_ID_EXAMPLE}/view",
    "entries": f"/api/v2/timetable/uploads/{UPLOAD_ID_EXAMPLE}/timetable/entries",
}


class ProblemDetails(BaseModel):
    """RFC 9457 problem document (``application/problem+json``)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://timetable-platform.example/problems/not_found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "No upload 3f2a... for this tenant",
                    "instance": "/api/v2/timetable/uploads/3f2a...",
                }
            ]
        },
    )

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


class UploadLinks(BaseModel):
    self: str
    timetable: str
    view: str
    entries: str = Field(description="the entries with their ids, for review (PATCH/POST/DELETE)")


class SubmitFields(BaseModel):
    """The submission form's fields besides the file (``multipart/form-data``), validated in one pass."""

    mode: Mode | None = Field(None, description="extraction mode; default from settings", examples=["hybrid"])
    label: str | None = Field(
        None, max_length=255, description="free text shown back to you", examples=["Year 7 autumn"]
    )
    callback_url: str | None = Field(
        None,
        max_length=2000,
        description="POSTed (signed) when the upload finishes",
        examples=["https://sis.example/hooks/timetable"],
    )
    force: bool = Field(False, description="submit again even if these bytes were already submitted")


FILE_FIELD_DESCRIPTION = "PDF, PNG/JPEG/TIFF/WebP/HEIC, DOCX, XLSX or CSV"


def submit_form_schema() -> dict[str, Any]:
    """The OpenAPI schema of the submission form: the file, then ``SubmitFields``."""
    fields = SubmitFields.model_json_schema()
    file = {"type": "string", "contentMediaType": "application/octet-stream", "title": "File",
            "description": FILE_FIELD_DESCRIPTION}  # fmt: skip
    return {
        "properties": {"file": file, **fields["properties"]},
        "type": "object",
        "required": ["file"],
        "title": "SubmitUploadForm",
    }


class SubmitResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "upload_id": UPLOAD_ID_EXAMPLE,
                    "status": "queued",
                    "duplicate": False,
                    "links": LINKS_EXAMPLE,
                }
            ]
        }
    )

    upload_id: str
    status: str
    duplicate: bool = Field(
        False, description="true when the same bytes in the same mode were already submitted"
    )
    links: UploadLinks


class ConfidenceSummary(BaseModel):
    entries: int | None = None
    mean: float | None = None
    min: float | None = None


class UsageSummary(BaseModel):
    """What the paid APIs (Document AI, Claude) were charged for this upload; zero on embedded backends."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None


class UploadStatusResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "upload_id": UPLOAD_ID_EXAMPLE,
                    "status": "succeeded",
                    "mode": "hybrid",
                    "filename": "year7.pdf",
                    "media_type": "application/pdf",
                    "size_bytes": 102400,
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "label": "Year 7 autumn",
                    "attempts": 1,
                    "error": None,
                    "created_at": "2026-11-29T09:00:00Z",
                    "updated_at": "2026-11-29T09:00:09Z",
                    "started_at": "2026-11-29T09:00:03Z",
                    "finished_at": "2026-11-29T09:00:09Z",
                    "timings": {"document_ai_extraction": 1.8, "claude_extraction": 2.1},
                    "backends": {"layout": "embedded-pdfplumber", "interpreter": "embedded-text"},
                    "warnings": [],
                    "review_reasons": [],
                    "confidence": {"entries": 35, "mean": 0.93, "min": 0.55},
                    "pages": 1,
                    "usage": {"input_tokens": 2923, "output_tokens": 1242, "cost_usd": 0.058},
                    "extractor_version": "1",
                    "dagster_run_id": "6d1c...",
                    "dagster_run_url": "http://dagster.internal:3000/runs/6d1c...",
                    "links": LINKS_EXAMPLE,
                }
            ]
        }
    )

    upload_id: str
    status: str
    mode: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    label: str | None = None
    attempts: int
    error: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    timings: dict[str, Any] = Field(default_factory=dict)
    backends: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list, description="what the extractor noticed, for engineers")
    review_reasons: list[str] = Field(
        default_factory=list,
        description="status needs_review: what a person should check in the timetable, written for a teacher",
    )
    confidence: ConfidenceSummary
    pages: int | None = None
    usage: UsageSummary = Field(default_factory=UsageSummary)
    extractor_version: str | None = None
    dagster_run_id: str | None = None
    dagster_run_url: str | None = None
    links: UploadLinks


class UploadPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": ["(upload status objects, newest first)"],
                    "next_cursor": "WyIyMDI2LTExLTI5VDA5OjAwOjAwKzAwOjAwIiwgIjNmMmEuLi4iXQ",
                    "links": {"next": "/api/v2/timetable/uploads?cursor=WyIy..."},
                }
            ]
        }
    )

    items: list[UploadStatusResponse]
    next_cursor: str | None = None
    links: dict[str, str] = Field(default_factory=dict)


class ReprocessRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"mode": "document_ai"}, {}]})

    mode: Mode | None = Field(None, description="run with another mode; default: the upload's current mode")
    replace_reviewed: bool = Field(
        False,
        description=(
            "discard the timetable's reviewed versions, so the new extraction is served; by default a "
            "reviewed timetable stays the one served"
        ),
    )


class ShareLink(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": (
                        "https://timetables.school.example/api/v2/timetable/uploads/"
                        f"{UPLOAD_ID_EXAMPLE}/view?expires=1796000000&token=9c1f..."
                    ),
                    "expires_at": "2026-12-06T09:00:00Z",
                }
            ]
        }
    )

    url: str = Field(
        description="absolute URL of the week view with the link's credentials (on TIMETABLE_PUBLIC_URL when set)"
    )
    expires_at: str


class DependencyStatus(BaseModel):
    ok: bool
    detail: str | None = None


class ReadyResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "checks": {
                        "database": {"ok": True},
                        "blob_store": {"ok": True},
                        "queue": {"ok": True},
                        "rate_limiter": {"ok": True},
                    },
                }
            ]
        }
    )

    status: Literal["ready", "unavailable"]
    checks: dict[str, DependencyStatus]


class HealthResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = "ok"
