"""Several timetables from one document (``timetables.schema.json``, schema version 2).

A school-wide print holds one timetable per class, teacher or room. Version 2 wraps a list of
version 1 timetables, each with its owner; a document holding one timetable stays version 1, so
``result_json`` gives whichever shape the result has and ``timetables_of`` reads either back.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from timetable_platform.domain.model import Owner, Source, Timetable, timetable_schema
from timetable_platform.domain.text import fold

SCHEMA_VERSION_MANY = "2"


def result_json(
    timetables: list[Timetable], *, source: Source | None = None, warnings: list[str] | None = None
) -> dict[str, Any]:
    """The stored/served JSON of a result: version 1 for one timetable, version 2 for several."""
    if len(timetables) == 1:
        return timetables[0].to_json_dict()
    data: dict[str, Any] = {"schema_version": SCHEMA_VERSION_MANY}
    if source is not None:
        data["source"] = {k: v for k, v in source.model_dump(mode="json").items() if v is not None}
    data["timetables"] = [t.to_json_dict() for t in timetables]
    data["warnings"] = list(warnings or [])
    return data


def timetables_of(data: dict[str, Any]) -> list[Timetable]:
    """The timetables of a stored result of either version (a version 1 result is a list of one)."""
    if str(data.get("schema_version")) == SCHEMA_VERSION_MANY:
        return [Timetable.model_validate(item) for item in data.get("timetables", [])]
    return [Timetable.model_validate(data)]


def is_many(data: dict[str, Any]) -> bool:
    return str(data.get("schema_version")) == SCHEMA_VERSION_MANY


def owner_label(owner: Owner | None) -> str:
    """Human name of an owner: 'Class 7B', 'Teacher Smith', 'Room 12'."""
    if owner is None:
        return "Timetable"
    if owner.kind in ("unknown",):
        return owner.name
    return f"{owner.kind.capitalize()} {owner.name}"


def owner_slug(owner: Owner | None, fallback: str) -> str:
    """A file-name-safe token for an owner ('class-7B', 'teacher-Mr-Smith')."""
    if owner is None:
        return fallback
    text = unicodedata.normalize("NFKD", f"{owner.kind}-{owner.name}").encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")
    return text or fallback


@cache
def timetables_schema() -> dict[str, Any]:
    text = resources.files("timetable_platform.domain").joinpath("timetables.schema.json").read_text()
    return json.loads(text)


@cache
def _validator() -> Draft202012Validator:
    registry: Registry = Registry().with_resource(
        "timetable.schema.json", Resource.from_contents(timetable_schema())
    )
    return Draft202012Validator(timetables_schema(), registry=registry)


def schema_errors_v2(data: dict[str, Any]) -> list[str]:
    """Every way ``data`` breaks ``timetables.schema.json`` (empty when valid)."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}" for err in errors]


def owner_key(owner: Owner) -> tuple[str, str]:
    """Two spellings of one owner ('7b', '7B ') are one owner."""
    return owner.kind, fold(" ".join(owner.name.split()))


def latest_by_owner(results: Iterable[tuple[str, datetime, list[Timetable]]]) -> list[IndexedTimetable]:
    """The school's index: the latest timetable of every owner over ``(upload id, finished at,
    timetables)`` results (an owner printed again in a newer upload is taken from that one)."""
    latest: dict[tuple[str, str], IndexedTimetable] = {}
    for upload_id, finished_at, timetables in sorted(results, key=lambda r: (r[1], r[0])):
        for number, timetable in enumerate(timetables, start=1):
            if timetable.owner is None:
                continue
            latest[owner_key(timetable.owner)] = IndexedTimetable(upload_id, number, finished_at, timetable)
    return sorted(latest.values(), key=lambda t: (t.owner.kind, fold(t.owner.name)))


@dataclass(frozen=True)
class IndexedTimetable:
    upload_id: str
    number: int  # 1-based position in its upload's result (GET /uploads/{id}/timetables/{n})
    finished_at: datetime
    timetable: Timetable

    @property
    def owner(self) -> Owner:
        assert self.timetable.owner is not None
        return self.timetable.owner

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner.model_dump(mode="json"),
            "upload_id": self.upload_id,
            "number": self.number,
            "finished_at": self.finished_at.isoformat(),
            "entry_count": len(self.timetable.entries),
        }
