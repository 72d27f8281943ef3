"""Reviewed timetables as evaluation cases: ``NAME.ext`` (the document) + ``NAME.json`` (what a person
confirmed), the pairs ``../shared/eval/score.py --truth-dir`` reads.

Cases are derived from the database and the blob store at export time, never kept elsewhere:
erasing an upload (request or retention) removes its case from every later export. An export
directory remembers the names it wrote (``.timetable-corpus``), so exporting again into it also
deletes the files of cases that are gone. Tenants that turned contribution off are left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from timetable_platform.store import review
from timetable_platform.store.blobs import upload_bytes

if TYPE_CHECKING:
    from timetable_platform.store.factory import Store

MANIFEST = ".timetable-corpus"  # not *.json: score.py must not take it for a truth file
EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "text/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "text/plain": ".txt",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")


@dataclass(frozen=True)
class ExportedCase:
    name: str
    document: Path
    truth: Path
    upload_id: str
    tenant: str
    reviewed_at: datetime | None


def case_name(tenant: str, upload_id: str) -> str:
    return f"{_UNSAFE.sub('-', tenant).strip('-')[:40] or 'tenant'}_{upload_id}"


def extension(media_type: str, filename: str) -> str:
    known = EXTENSIONS.get(media_type.split(";")[0].strip().lower())
    if known:
        return known
    suffix = Path(filename).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".bin"


def export_cases(
    store: Store, out_dir: Path, *, tenant: str | None = None, since: datetime | None = None
) -> tuple[list[ExportedCase], list[str]]:
    """Write every current case into ``out_dir``; returns the cases and the names removed as gone."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with store.session_factory() as session:
        cases = review.reviewed_cases(session, tenant=tenant, since=since)
        for case in cases:
            session.expunge(case.upload)
        # every current case, whatever the filters: what an earlier export wrote and is not here is gone
        alive = {case_name(c.upload.tenant, c.upload.id) for c in review.reviewed_cases(session)}
    written: list[ExportedCase] = []
    for case in cases:
        upload = case.upload
        name = case_name(upload.tenant, upload.id)
        document = out_dir / f"{name}{extension(upload.media_type, upload.filename)}"
        truth = out_dir / f"{name}.json"
        document.write_bytes(upload_bytes(store.blobs, upload.tenant, upload.id))
        truth.write_text(json.dumps(case.version.timetable.to_json_dict(), ensure_ascii=False, indent=2) + "\n")
        written.append(ExportedCase(name, document, truth, upload.id, upload.tenant, case.version.reviewed_at))
    removed = _prune(out_dir, {c.name: [c.document.name, c.truth.name] for c in written}, alive)
    return written, removed


def _prune(out_dir: Path, current: dict[str, list[str]], alive: set[str]) -> list[str]:
    """Delete the files of cases an earlier export wrote here that are no longer cases; remember these."""
    manifest = out_dir / MANIFEST
    previous: dict[str, list[str]] = {}
    if manifest.is_file():
        try:
            previous = json.loads(manifest.read_text())
        except (ValueError, UnicodeDecodeError):
            previous = {}
    removed = []
    for name, files in previous.items():
        if name in current or name in alive:
            continue
        for file in files:
            path = out_dir / Path(file).name  # never outside the directory
            path.unlink(missing_ok=True)
        removed.append(name)
    keep = {name: files for name, files in previous.items() if name not in removed}
    manifest.write_text(json.dumps({**keep, **current}, indent=1, sort_keys=True))
    return removed
