"""A person's corrections to a timetable: change, add and delete entries, each checked like an extraction.

Pure. Entries carry stable ids while they are edited (``EditableTimetable.entry_ids``, parallel to
``timetable.entries``): the extracted entries are ``e0``, ``e1``... by their stored position, and
entries a person adds get fresh ids from the caller. The output contract (``timetable.schema.json``)
never sees the ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.domain.validate import schema_errors, semantic_issues

# What a person may change in a block; confidence and page are the extractor's, not theirs.
EDITABLE_FIELDS: tuple[str, ...] = (
    "day", "start", "end", "period", "kind", "subject", "teacher", "room", "group", "week", "notes",
)  # fmt: skip
# A block a person wrote or corrected is as certain as the timetable gets.
CONFIRMED = 1.0


class EditError(ValueError):
    """The change cannot be applied; ``reasons`` say why, for the person who made it."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class UnknownEntry(LookupError):
    pass


@dataclass(frozen=True)
class EditableTimetable:
    timetable: Timetable
    entry_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.entry_ids) != len(self.timetable.entries):
            raise ValueError("one id per entry")
        if len(set(self.entry_ids)) != len(self.entry_ids):
            raise ValueError("entry ids must be unique")

    def index(self, entry_id: str) -> int:
        try:
            return self.entry_ids.index(entry_id)
        except ValueError:
            raise UnknownEntry(entry_id) from None

    def entry(self, entry_id: str) -> Entry:
        return self.timetable.entries[self.index(entry_id)]

    def with_ids(self) -> list[dict[str, Any]]:
        """Every entry as JSON with its ``id`` first (the review API's entry list)."""
        return [
            {"id": entry_id, **entry.model_dump(mode="json")}
            for entry_id, entry in zip(self.entry_ids, self.timetable.entries, strict=True)
        ]


def extracted_ids(timetable: Timetable) -> tuple[str, ...]:
    return tuple(f"e{position}" for position in range(len(timetable.entries)))


def from_extracted(timetable: Timetable) -> EditableTimetable:
    return EditableTimetable(timetable, extracted_ids(timetable))


@dataclass(frozen=True)
class Change:
    """What one edit did: the new timetable, and the entry before and after (None when added/deleted)."""

    result: EditableTimetable
    entry_id: str
    before: Entry | None
    after: Entry | None
    # overlaps and other doubts the change leaves, in engineers' words (not a reason to refuse it)
    warnings: list[str]


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise EditError([f"{name}: not a field a person can edit" for name in unknown])
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
            # an emptied optional field means "none"; subject and day are checked by the schema
            if value == "" and name not in ("subject", "day", "kind"):
                value = None
        if name == "day" and isinstance(value, str):
            value = value.upper()
        out[name] = value
    if "subject" in out and not out["subject"]:
        raise EditError(["subject: a block needs a subject"])
    return out


def _checked(data: dict[str, Any], changed: int | None, before: Timetable) -> tuple[Timetable, list[str]]:
    """The schema, then the semantic checks: errors refuse the change; a new overlap with the changed
    entry refuses it too (a clash a person types is a typo); the other doubts come back as warnings."""
    errors = schema_errors(data)
    if errors:
        raise EditError(errors)
    checked = Timetable.model_validate(data)
    issues = semantic_issues(checked)
    reasons = [i.message for i in issues if i.severity == "error"]
    if changed is not None:
        # Indices are stable across an update or an append, so a pair of indices names the same two blocks:
        # a clash the document already had (split groups, say) never blocks editing one of its blocks.
        old_pairs = {frozenset(i.entries) for i in semantic_issues(before) if i.code == "overlap"}
        reasons.extend(
            issue.message
            for issue in issues
            if issue.code == "overlap" and changed in issue.entries and frozenset(issue.entries) not in old_pairs
        )
    if reasons:
        raise EditError(reasons)
    return checked, [i.message for i in issues if i.severity == "warning"]


def update_entry(current: EditableTimetable, entry_id: str, fields: Mapping[str, Any]) -> Change:
    """Change some fields of one entry (a field given as null or "" is cleared)."""
    index = current.index(entry_id)
    before = current.timetable.entries[index]
    changes = _clean(fields)
    data = {**before.model_dump(mode="json"), **changes, "confidence": CONFIRMED}
    entries = [e.model_dump(mode="json") for e in current.timetable.entries]
    entries[index] = data
    checked, warnings = _checked({**_shallow(current.timetable), "entries": entries}, index, current.timetable)
    result = EditableTimetable(checked, current.entry_ids)
    return Change(result, entry_id, before, checked.entries[index], warnings)


def add_entry(current: EditableTimetable, fields: Mapping[str, Any], new_id: str) -> Change:
    """A new entry (at the end; exports sort by day and time) with the id ``new_id``."""
    if new_id in current.entry_ids:
        raise ValueError(f"entry id {new_id} is taken")
    changes = _clean(fields)
    missing = [f"{name}: required" for name in ("day", "subject") if not changes.get(name)]
    if missing:
        raise EditError(missing)
    entries = [e.model_dump(mode="json") for e in current.timetable.entries]
    entries.append({**changes, "confidence": CONFIRMED})
    checked, warnings = _checked(
        {**_shallow(current.timetable), "entries": entries}, len(entries) - 1, current.timetable
    )
    result = EditableTimetable(checked, (*current.entry_ids, new_id))
    return Change(result, new_id, None, checked.entries[-1], warnings)


def delete_entry(current: EditableTimetable, entry_id: str) -> Change:
    index = current.index(entry_id)
    before = current.timetable.entries[index]
    entries = [e for i, e in enumerate(current.timetable.entries) if i != index]
    timetable = current.timetable.model_copy(update={"entries": entries})
    ids = tuple(x for x in current.entry_ids if x != entry_id)
    warnings = [i.message for i in semantic_issues(timetable) if i.severity == "warning"]
    return Change(EditableTimetable(timetable, ids), entry_id, before, None, warnings)


def _shallow(timetable: Timetable) -> dict[str, Any]:
    """The timetable's header as JSON values (what ``schema_errors`` checks with the entries)."""
    data = timetable.to_json_dict()
    data.pop("entries")
    return data


def entry_diff(before: Entry | None, after: Entry | None) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every editable field that differs (an added or deleted entry
    differs in every field it has)."""
    old = before.model_dump(mode="json") if before else {}
    new = after.model_dump(mode="json") if after else {}
    return {
        name: [old.get(name), new.get(name)]
        for name in EDITABLE_FIELDS
        if old.get(name) != new.get(name)
    }
