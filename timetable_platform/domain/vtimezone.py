"""VTIMEZONE blocks with yearly RRULE transitions, built from the zone's current rule.

A VTIMEZONE that lists each transition as an RDATE ends where the list ends: parsers that read it
(ical.js, dateutil's ``tzical``) then treat every later summer occurrence of a never-ending weekly
event as winter time. Mainstream calendar servers write one STANDARD and one DAYLIGHT component
with a yearly RRULE instead, which holds for every year the rule holds. The rule is the POSIX TZ
string that ends every TZif file of the tz database (RFC 8536, section 3.3), for example
``GMT0BST,M3.5.0/1,M10.5.0`` for Europe/London.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

import icalendar

_NAME = r"(?:[A-Za-z]{3,}|<[A-Za-z0-9+\-]{1,}>)"
_OFFSET = r"[+-]?\d{1,2}(?::\d{2}){0,2}"
_RULE = r"M\d{1,2}\.\d\.\d(?:/[+-]?\d{1,3}(?::\d{2}){0,2})?"
_POSIX = re.compile(
    rf"^(?P<std>{_NAME})(?P<std_off>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dst_off>{_OFFSET})?,(?P<start>{_RULE}),(?P<end>{_RULE}))?$"
)
_DAY_CODES = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # POSIX counts weekdays from Sunday = 0


class UnsupportedZoneRule(ValueError):
    """The zone's rule has no exact yearly-RRULE form (a Julian-day rule, a transition time outside 0-24 h)."""


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")]
    parts += [0] * (3 - len(parts))
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


@dataclass(frozen=True)
class _Transition:
    month: int
    week: int  # 1-4: the nth such weekday of the month; 5: the last one
    weekday: int  # 0 = Sunday
    at_seconds: int  # local time, in the offset in force before the transition

    @classmethod
    def parse(cls, text: str) -> _Transition:
        rule, _, at = text[1:].partition("/")
        month, week, weekday = (int(p) for p in rule.split("."))
        seconds = _seconds(at) if at else 2 * 3600
        if not 0 <= seconds < 24 * 3600:
            raise UnsupportedZoneRule(f"transition time {at!r} is outside the day")
        return cls(month, week, weekday, seconds)

    def onset(self, year: int) -> datetime:
        """The local wall time of this transition in ``year``."""
        python_weekday = (self.weekday - 1) % 7  # Monday = 0
        if self.week == 5:
            day = calendar.monthrange(year, self.month)[1]
            while date(year, self.month, day).weekday() != python_weekday:
                day -= 1
        else:
            day = 1
            while date(year, self.month, day).weekday() != python_weekday:
                day += 1
            day += 7 * (self.week - 1)
        return datetime(year, self.month, day) + timedelta(seconds=self.at_seconds)

    def rrule(self) -> dict[str, object]:
        nth = -1 if self.week == 5 else self.week
        return {"freq": "yearly", "bymonth": self.month, "byday": f"{nth}{_DAY_CODES[self.weekday]}"}


def posix_rule(zone: str) -> str:
    """The POSIX TZ string at the end of the zone's TZif file (system tz database, else the tzdata package)."""
    data: bytes | None = None
    for folder in zoneinfo.TZPATH:
        candidate = Path(folder) / zone
        if candidate.is_file():
            data = candidate.read_bytes()
            break
    if data is None:
        package, _, name = f"tzdata.zoneinfo/{zone}".rpartition("/")
        data = resources.files(package.replace("/", ".")).joinpath(name).read_bytes()
    if not data.startswith(b"TZif") or data[4:5] < b"2":
        raise UnsupportedZoneRule(f"{zone}: no TZif version 2+ footer")
    return data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii")


def _name(token: str) -> str:
    return token.strip("<>")


def _utc_offset(posix_offset: str) -> timedelta:
    return timedelta(seconds=-_seconds(posix_offset))  # POSIX counts hours west of Greenwich


def vtimezone(zone: str) -> icalendar.Timezone:
    """A VTIMEZONE for ``zone`` whose transitions recur yearly (or one STANDARD block for zones without DST).

    Raises ``UnsupportedZoneRule`` when the rule cannot be written that way; callers then fall
    back to listed transitions over the years they need.
    """
    match = _POSIX.match(posix_rule(zone))
    if match is None:
        raise UnsupportedZoneRule(f"{zone}: rule {posix_rule(zone)!r} not understood")
    std_offset = _utc_offset(match["std_off"])
    tz = icalendar.Timezone()
    tz.add("tzid", zone)
    if not match["dst"]:
        standard = icalendar.TimezoneStandard()
        standard.add("tzname", _name(match["std"]))
        standard.add("dtstart", datetime(1970, 1, 1))
        standard.add("tzoffsetfrom", std_offset)
        standard.add("tzoffsetto", std_offset)
        tz.add_component(standard)
        return tz
    dst_offset = _utc_offset(match["dst_off"]) if match["dst_off"] else std_offset + timedelta(hours=1)
    to_dst, to_std = _Transition.parse(match["start"]), _Transition.parse(match["end"])
    # Negative DST (Europe/Dublin: "standard" IST in summer, GMT in winter) is written the way calendar
    # servers write it, DAYLIGHT for the later clock, since clients mishandle a DAYLIGHT behind STANDARD.
    summer, winter = (icalendar.TimezoneDaylight, icalendar.TimezoneStandard)
    if dst_offset < std_offset:
        summer, winter = winter, summer
    for kind, rule, name, before, after in (
        (summer, to_dst, match["dst"], std_offset, dst_offset),
        (winter, to_std, match["std"], dst_offset, std_offset),
    ):
        block = kind()
        block.add("tzname", _name(name))
        block.add("dtstart", rule.onset(1970))
        block.add("tzoffsetfrom", before)
        block.add("tzoffsetto", after)
        block.add("rrule", rule.rrule())
        tz.add_component(block)
    return tz
