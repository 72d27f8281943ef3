"""Term settings: the dates a school's timetable repeats between, its holidays, which week is Week A,
its time zone and its bell times. Set per tenant and per upload; the upload's values win field by field.

Calendar exports anchor everything to these dates, never to the day a feed is fetched, so a
subscribed feed shows the same lessons on the same days whenever it is refreshed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

DEFAULT_TIMEZONE = "Europe/London"
# A school year runs from September to July; a reference date in August or later belongs to the
# year that starts that September.
ACADEMIC_YEAR_FIRST_MONTH = 8
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_HOLIDAY_DAYS = 366 * 2  # a term's holidays, not a century of dates
MAX_TERM_DAYS = 366 * 2  # a school year with room to spare; also bounds the work of every export


class TermSettingsError(ValueError):
    """Term settings that cannot be used (a bad date, an end before the start, an unknown zone)."""


class BellTime(BaseModel):
    """When one period (or a named slot such as "Break") starts and ends, as ``HH:MM``."""

    model_config = ConfigDict(extra="forbid")

    start: Annotated[str, StringConstraints(pattern=HHMM.pattern)]
    end: Annotated[str, StringConstraints(pattern=HHMM.pattern)]

    @model_validator(mode="after")
    def _ordered(self) -> BellTime:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self


def parse_holiday(text: str) -> list[date]:
    """``YYYY-MM-DD`` or an ISO 8601 interval ``YYYY-MM-DD/YYYY-MM-DD`` (both ends included)."""
    first_text, sep, last_text = text.strip().partition("/")
    try:
        first = date.fromisoformat(first_text.strip())
        last = date.fromisoformat(last_text.strip()) if sep else first
    except ValueError:
        raise TermSettingsError(f"not a date or date range (YYYY-MM-DD[/YYYY-MM-DD]): {text!r}") from None
    if last < first:
        raise TermSettingsError(f"holiday range ends before it starts: {text!r}")
    if (last - first).days > MAX_HOLIDAY_DAYS:
        raise TermSettingsError(f"holiday range longer than {MAX_HOLIDAY_DAYS} days: {text!r}")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def parse_holidays_file(text: str) -> list[str]:
    """A holidays file: one date or range per line; blank lines and ``#`` comments are ignored.

    Each line is checked (``TermSettingsError`` names the line); the lines come back as given.
    """
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            parse_holiday(line)
        except TermSettingsError as exc:
            raise TermSettingsError(f"line {number}: {exc}") from None
        lines.append(line)
    return lines


def normalise_slot(label: str) -> str:
    """A period or slot label compared loosely: "P1", "Period 1", "1." and "1" are the same slot."""
    text = label.strip().lower().rstrip(".")
    text = re.sub(r"^(period|per\.?|p)\s*(?=\d)", "", text)
    return re.sub(r"\s+", " ", text)


class TermSettings(BaseModel):
    """What a tenant or an upload sets; anything left out (None) comes from the level below, then defaults."""

    model_config = ConfigDict(extra="forbid")

    term_start: date | None = Field(
        default=None, description="first day of term; default 1 September of the school year"
    )
    term_end: date | None = Field(
        default=None, description="last day of term (included); default 31 July after the term start"
    )
    holidays: list[str] | None = Field(
        default=None,
        max_length=200,
        description="days without lessons: YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD (both ends included)",
        examples=[["2026-10-26/2026-10-30", "2026-12-21/2027-01-01"]],
    )
    first_week: str | None = Field(
        default=None,
        max_length=40,
        description="alternating timetables: the week label (A, B...) of the week containing term_start; "
        "default the first label",
    )
    timezone: str | None = Field(
        default=None, max_length=64, description=f"IANA zone of the printed times; default {DEFAULT_TIMEZONE}"
    )
    bell_times: dict[str, BellTime] | None = Field(
        default=None,
        max_length=60,
        description="period (or slot name such as Break) -> start and end; fills in times a document "
        "prints only as periods",
        examples=[{"1": {"start": "08:50", "end": "09:40"}, "Break": {"start": "10:30", "end": "10:50"}}],
    )

    @field_validator("holidays")
    @classmethod
    def _holidays_parse(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for item in value:
                try:
                    parse_holiday(item)
                except TermSettingsError as exc:
                    raise ValueError(str(exc)) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone: {value!r}") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TermSettings:
        if self.term_start and self.term_end:
            if self.term_end < self.term_start:
                raise ValueError(f"term_end {self.term_end} is before term_start {self.term_start}")
            if (self.term_end - self.term_start).days > MAX_TERM_DAYS:
                raise ValueError(f"the term is longer than {MAX_TERM_DAYS} days")
        return self

    def over(self, base: TermSettings | None) -> TermSettings:
        """These settings, with anything unset taken from ``base`` (an upload's over its tenant's)."""
        if base is None:
            return self
        merged: dict[str, Any] = base.model_dump()
        merged.update({k: v for k, v in self.model_dump().items() if v is not None})
        return TermSettings.model_validate(merged)


def academic_year(day: date) -> int:
    """The calendar year in which the school year containing ``day`` starts."""
    return day.year if day.month >= ACADEMIC_YEAR_FIRST_MONTH else day.year - 1


@dataclass(frozen=True)
class Term:
    """Resolved term settings: every date known."""

    start: date
    end: date
    holidays: frozenset[date] = frozenset()
    first_week: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    bell_times: dict[str, BellTime] = field(default_factory=dict)

    @property
    def first_monday(self) -> date:
        return self.start - timedelta(days=self.start.weekday())


def resolve(settings: TermSettings | None, reference: date) -> Term:
    """Fill in the defaults. ``reference`` picks the school year when no term date is set: for an upload
    the day it was submitted (fixed), for the CLI today. It is never the day a feed is fetched."""
    settings = settings or TermSettings()
    start, end = settings.term_start, settings.term_end
    if start is None:
        start = date(academic_year(end if end else reference), 9, 1)
    if end is None:
        end = date(academic_year(start) + 1, 7, 31)
    if end < start:
        raise TermSettingsError(f"term end {end} is before term start {start}")
    if (end - start).days > MAX_TERM_DAYS:
        raise TermSettingsError(f"the term is longer than {MAX_TERM_DAYS} days")
    holidays: set[date] = set()
    for item in settings.holidays or []:
        holidays.update(parse_holiday(item))
    return Term(
        start=start,
        end=end,
        holidays=frozenset(holidays),
        first_week=settings.first_week,
        timezone=settings.timezone or DEFAULT_TIMEZONE,
        bell_times={normalise_slot(k): v for k, v in (settings.bell_times or {}).items()},
    )
