"""The timetable model: what one extraction returns (``timetable.schema.json``, version 1)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Day = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
Kind = Literal["lesson", "break", "other"]
OwnerKind = Literal["class", "teacher", "room", "student", "unknown"]

DAYS: tuple[Day, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
SCHEMA_VERSION = "1"


class Entry(BaseModel):
    """One time block on one day."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    day: Day
    start: str | None = None  # "HH:MM", 24-hour
    end: str | None = None
    period: str | None = None
    kind: Kind = "lesson"
    subject: str
    teacher: str | None = None
    room: str | None = None
    group: str | None = None
    week: str | None = None
    notes: str | None = None
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    page: int | None = Field(default=None, ge=1)

    def slot_key(self) -> tuple[str, str | None, str | None, str | None]:
        return (self.day, self.start, self.end, self.week)


class Owner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: OwnerKind
    name: str


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str | None = None
    media_type: str | None = None
    pages: int | None = Field(default=None, ge=1)
    sha256: str | None = None


class Timetable(BaseModel):
    """An extracted timetable; ``to_json_dict`` gives the schema's exact shape."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal["1"] = SCHEMA_VERSION
    title: str | None = None
    owner: Owner | None = None
    source: Source | None = None
    entries: list[Entry] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if data["source"] is not None:
            data["source"] = {k: v for k, v in data["source"].items() if v is not None}
        return data

    def sorted_entries(self) -> list[Entry]:
        order = {d: i for i, d in enumerate(DAYS)}
        return sorted(
            self.entries,
            key=lambda e: (e.week or "", order[e.day], e.start or "99:99", e.period or "", e.subject),
        )


@cache
def timetable_schema() -> dict[str, Any]:
    """The output contract, shipped inside the package."""
    text = resources.files("timetable_platform.domain").joinpath("timetable.schema.json").read_text()
    return json.loads(text)
