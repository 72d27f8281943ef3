"""``school_timetables``: per tenant, the latest timetable of every owner, and the checks that only a
school-wide view can make (a teacher in two places at once, a room booked twice, a class with two
lessons in one slot). The clash finding is ``domain.conflicts``; this asset reads the store and reports."""

import json
import warnings
from typing import Any

import dagster as dg

from timetable_platform.assets.partitions import SCHOOL_GROUP_NAME, TENANTS_PARTITIONS
from timetable_platform.domain.conflicts import Conflict, ConflictKind, find_conflicts
from timetable_platform.domain.school import latest_by_owner, owner_label
from timetable_platform.resources import StoreResource

SCHOOL_TIMETABLES = "school_timetables"
PREVIEW_CONFLICTS = 50  # conflicts listed in a check's metadata
CONFLICT_CHECKS: dict[ConflictKind, tuple[str, str]] = {
    "teacher": (
        "teacher_in_one_place",
        "No teacher is in two places at once across the school's timetables.",
    ),
    "room": ("room_booked_once", "No room is booked for two lessons at once."),
    "class": ("class_one_lesson_per_slot", "No class has two lessons in one slot."),
}


def _check_specs() -> list[dg.AssetCheckSpec]:
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", category=dg.PreviewWarning, message=".*partitions_def.*AssetCheckSpec"
        )
        return [
            dg.AssetCheckSpec(
                name, asset=SCHOOL_TIMETABLES, description=text, partitions_def=TENANTS_PARTITIONS
            )
            for name, text in CONFLICT_CHECKS.values()
        ]


def conflict_results(conflicts: list[Conflict]) -> list[dg.AssetCheckResult]:
    """One WARN check per kind of clash, the clashing entries named in its metadata."""
    results = []
    for kind, (name, _) in CONFLICT_CHECKS.items():
        found = [c for c in conflicts if c.kind == kind]
        results.append(
            dg.AssetCheckResult(
                check_name=name,
                passed=not found,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "conflict_count": len(found),
                    "conflicts": dg.MetadataValue.json([c.message for c in found[:PREVIEW_CONFLICTS]]),
                },
            )
        )
    return results


@dg.asset(
    partitions_def=TENANTS_PARTITIONS,
    group_name=SCHOOL_GROUP_NAME,
    kinds={"python", "json"},
    deps=[dg.AssetDep("merged_timetable", partition_mapping=dg.AllPartitionMapping())],
    check_specs=_check_specs(),
)
def school_timetables(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """The tenant's school-wide index, schools/{tenant}/timetables.json: the latest timetable of every
    owner (class, teacher, room) over all its uploads, with where each is served
    (GET /uploads/{id}/timetables/{n}). Checks across those timetables warn of clashes."""
    from timetable_platform.store.school_index import ready_uploads, school_index_key, stored_timetables

    tenant = context.partition_key
    with store.session() as session:
        uploads = ready_uploads(session, tenant)
    results = [
        (upload_id, finished, stored_timetables(store.blobs, upload_id)) for upload_id, finished in uploads
    ]
    index = latest_by_owner(results)
    conflicts = find_conflicts([item.timetable for item in index])
    document: dict[str, Any] = {
        "tenant": tenant,
        "timetables": [item.to_json_dict() for item in index],
        "conflicts": [
            {"kind": c.kind, "name": c.name, "day": c.day, "start": c.start, "end": c.end, "week": c.week,
             "entries": list(c.entries)}
            for c in conflicts
        ],
    }  # fmt: skip
    store.blobs.put(
        school_index_key(tenant),
        json.dumps(document, ensure_ascii=False).encode(),
        content_type="application/json",
    )
    return dg.MaterializeResult(
        metadata={
            "uploads_read": len(uploads),
            "owner_count": len(index),
            "owners": dg.MetadataValue.json(
                [
                    {
                        "owner": owner_label(i.owner),
                        "entry_count": len(i.timetable.entries),
                        "upload_id": i.upload_id,
                    }
                    for i in index
                ]
            ),
            "conflict_count": len(conflicts),
            "index_key": school_index_key(tenant),
        },
        check_results=conflict_results(conflicts),
    )


def register_tenant(instance: dg.DagsterInstance, tenant: str) -> None:
    """Add the tenant's partition of ``school_timetables`` (once)."""
    if not instance.has_dynamic_partition(TENANTS_PARTITIONS.name, tenant):  # type: ignore[arg-type]
        instance.add_dynamic_partitions(TENANTS_PARTITIONS.name, [tenant])  # type: ignore[arg-type]


__all__ = ["SCHOOL_TIMETABLES", "register_tenant", "school_timetables"]
