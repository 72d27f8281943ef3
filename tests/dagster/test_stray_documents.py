"""Documents put where no sensor looks are logged once each (not ignored in silence), and an erased
historical upload takes its source document with it."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from tests.dagster.conftest import Platform
from tests.support.aws import REGION, s3_client
from timetable_platform.definitions import defs
from timetable_platform.resources import StoreResource
from timetable_platform.sensors import historical
from timetable_platform.store import repository
from timetable_platform.store.blobs import HISTORICAL_PREFIX, WATCHED_ROOTS, S3BlobStore, upload_key
from timetable_platform.store.retention import erase_upload


def _tick(platform: Platform, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=platform.instance, cursor=cursor, resources={"store": platform.store}, definitions=defs
    )
    result = historical.historical_upload_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_documents_outside_the_watched_prefixes_are_logged_once_each(
    platform: Platform, small_timetable: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    blobs = platform.store.blobs
    blobs.put("Historical/school-1/term1.csv", small_timetable.read_bytes())  # wrong case: not watched
    blobs.put("incoming/term2.pdf", b"%PDF-1.4")
    blobs.put("incoming/readme.md", b"not a document")
    blobs.put(f"{HISTORICAL_PREFIX}school-1/term3.csv", small_timetable.read_bytes())  # watched: registered

    first = _tick(platform)
    err = capfd.readouterr().err
    root = blobs.location("")
    for stray in ("Historical/school-1/term1.csv", "incoming/term2.pdf"):
        assert err.count(f"{root}{stray} looks like a document but lies outside every watched prefix") == 1, err
    assert "readme.md" not in err and "term3.csv" not in err
    assert f"put historical documents under {root}historical/<tenant>/<file>" in err
    assert len(first.run_requests or []) == 1

    second = _tick(platform, first.cursor)
    assert "looks like a document" not in capfd.readouterr().err  # once per key, not once per tick
    assert f"{root}incoming/term2.pdf" in json.loads(second.cursor or "{}")["reported"]


def test_the_old_list_cursor_is_still_read(platform: Platform, small_timetable: Path) -> None:
    key = f"{HISTORICAL_PREFIX}school-1/term1.csv"
    platform.store.blobs.put(key, small_timetable.read_bytes())
    result = _tick(platform, json.dumps([key]))  # the cursor before it became an object: already seen
    assert result.run_requests == [] and json.loads(result.cursor or "{}")["seen"] == [key]


def test_an_s3_store_with_a_prefix_finds_historical_documents_at_the_bucket_root(
    moto_server: str, s3_bucket: str
) -> None:
    """The README's trap: `historical/...` at the bucket root while TIMETABLE_S3_PREFIX is set."""
    client = s3_client(moto_server)
    for key in ("historical/school-1/old.pdf", "tt/prod/misc/plan.xlsx", "zz/other.csv",
                *(f"tt/prod/uploads/school-1/{i:04d}/original" for i in range(30)),
                "tt/prod/results/abc/timetable.json", "tt/prod/historical/school-1/ok.pdf"):  # fmt: skip
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
    store = S3BlobStore(s3_bucket, prefix="tt/prod", region=REGION, endpoint_url=moto_server)
    found = store.keys_outside(WATCHED_ROOTS, limit=100)
    assert found == [
        f"s3://{s3_bucket}/historical/school-1/old.pdf",
        f"s3://{s3_bucket}/tt/prod/misc/plan.xlsx",
        f"s3://{s3_bucket}/zz/other.csv",
    ]
    assert store.keys_outside(WATCHED_ROOTS, limit=2) == found[:2]


def test_erasing_a_historical_upload_deletes_its_source_unless_the_key_holds_another_document(
    platform: Platform, small_timetable: Path
) -> None:
    platform.store = StoreResource(overrides={**platform.store.overrides, "mode": "document_ai"})
    blobs = platform.store.blobs
    content = small_timetable.read_bytes()
    blobs.put(f"{HISTORICAL_PREFIX}school-1/a.csv", content)
    blobs.put(f"{HISTORICAL_PREFIX}school-1/b.csv", content + b"Friday,09:00,10:00,Music,Mr Poe,R2\n")
    result = _tick(platform)
    with platform.store.session() as session:
        uploads, _ = repository.list_uploads(session, tenant="school-1")
    by_source = {str(u.label).removeprefix("historical:"): u.id for u in uploads}
    assert set(by_source) == {f"{HISTORICAL_PREFIX}school-1/a.csv", f"{HISTORICAL_PREFIX}school-1/b.csv"}

    assert erase_upload(platform.store.store(), by_source[f"{HISTORICAL_PREFIX}school-1/a.csv"])
    assert not blobs.exists(f"{HISTORICAL_PREFIX}school-1/a.csv")
    # A key that now holds another document than the upload's is left alone.
    blobs.put(f"{HISTORICAL_PREFIX}school-1/b.csv", b"Day,Start\nMonday,09:00\n")
    assert erase_upload(platform.store.store(), by_source[f"{HISTORICAL_PREFIX}school-1/b.csv"])
    assert blobs.exists(f"{HISTORICAL_PREFIX}school-1/b.csv")
    assert not blobs.exists(upload_key("school-1", by_source[f"{HISTORICAL_PREFIX}school-1/a.csv"]))
    # The sensor forgets the gone source: its cursor names only keys that still exist.
    after = _tick(platform, result.cursor)
    assert json.loads(after.cursor or "{}")["seen"] == [f"{HISTORICAL_PREFIX}school-1/b.csv"]
