"""Blob stores: the same behaviour from the local directory and from S3 (moto server)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.aws import make_bucket, s3_client
from timetable_platform.store.blobs import (
    HISTORICAL_PREFIX,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    legacy_upload_key,
    result_key,
    upload_key,
)
from timetable_platform.store.errors import BackendUnavailable, BlobNotFound, InvalidBlobKey, StoreConfigError


@pytest.fixture(params=["local", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    endpoint = request.getfixturevalue("moto_server")
    return S3BlobStore(make_bucket(endpoint), prefix="env/test", endpoint_url=endpoint, region="us-east-1")


def test_key_helpers() -> None:
    assert upload_key("acme", "abc") == "uploads/acme/abc"
    assert legacy_upload_key("acme", "abc") == "uploads/acme/abc/original"
    assert result_key("abc") == "results/abc/timetable.json"
    assert HISTORICAL_PREFIX == "historical/"
    for tenant in ("", "a/b", "..", "a\\b"):
        with pytest.raises(InvalidBlobKey):
            upload_key(tenant, "abc")


def test_put_get_exists_delete(blobs: BlobStore) -> None:
    key = upload_key("acme", "u1")
    assert not blobs.exists(key)
    with pytest.raises(BlobNotFound):
        blobs.get(key)
    blobs.put(key, b"%PDF-1.7 first", content_type="application/pdf")
    blobs.put(key, b"%PDF-1.7 second")  # overwrite
    assert blobs.get(key) == b"%PDF-1.7 second"
    assert blobs.exists(key)
    blobs.delete(key)
    blobs.delete(key)  # already gone: no error
    assert not blobs.exists(key)
    blobs.put("empty/file", b"")
    assert blobs.get("empty/file") == b""


def test_list_and_delete_prefix(blobs: BlobStore) -> None:
    keys = [upload_key("acme", "u1"), upload_key("acme", "u2"), upload_key("zeta", "u3"), result_key("u1"),
            "historical/acme/2024/week 1.pdf"]  # fmt: skip
    for key in keys:
        blobs.put(key, key.encode())
    assert list(blobs.list("uploads/acme/")) == [upload_key("acme", "u1"), upload_key("acme", "u2")]
    assert list(blobs.list("uploads/ac")) == [upload_key("acme", "u1"), upload_key("acme", "u2")]
    assert list(blobs.list(HISTORICAL_PREFIX)) == ["historical/acme/2024/week 1.pdf"]
    assert sorted(blobs.list()) == sorted(keys)
    assert list(blobs.list("nothing/here/")) == []
    assert blobs.delete_prefix("uploads/acme/") == 2
    assert sorted(blobs.list()) == sorted([upload_key("zeta", "u3"), result_key("u1"), "historical/acme/2024/week 1.pdf"])
    with pytest.raises(InvalidBlobKey):
        blobs.delete_prefix("")


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../outside", "a/../../b", "a//b", "a/./b", "dir/", "a\\b", "a\x00b"])
def test_bad_keys_are_refused(blobs: BlobStore, key: str) -> None:
    with pytest.raises(InvalidBlobKey):
        blobs.put(key, b"x")
    with pytest.raises(InvalidBlobKey):
        blobs.get(key)


def test_ping(blobs: BlobStore) -> None:
    blobs.ping()


def test_local_writes_are_atomic_and_leave_no_temp_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("a/b/c.bin", b"x" * 100_000)
    store.put("a/b/c.bin", b"y" * 10)
    assert [p.name for p in (tmp_path / "a" / "b").iterdir()] == ["c.bin"]
    assert store.get("a/b/c.bin") == b"y" * 10
    store.delete("a/b/c.bin")
    assert list(tmp_path.iterdir()) == []  # empty directories pruned


def test_local_symlink_escape_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link")
    store = LocalBlobStore(root)
    with pytest.raises(InvalidBlobKey):
        store.get("link/secret")


def test_local_ping_fails_on_unusable_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(BackendUnavailable):
        LocalBlobStore(tmp_path / "file" / "blobs").ping()


def test_s3_prefix_and_server_side_encryption(moto_server: str) -> None:
    bucket = make_bucket(moto_server)
    store = S3BlobStore(bucket, prefix="/tenant-data/", endpoint_url=moto_server, region="us-east-1", sse="AES256")
    store.put("results/u1/timetable.json", b"{}", content_type="application/json")
    raw = s3_client(moto_server)
    head = raw.head_object(Bucket=bucket, Key="tenant-data/results/u1/timetable.json")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "application/json"
    # Objects outside the prefix are invisible to the store.
    raw.put_object(Bucket=bucket, Key="elsewhere/x", Body=b"x")
    assert list(store.list()) == ["results/u1/timetable.json"]


def test_s3_kms_encryption_headers(moto_server: str) -> None:
    bucket = make_bucket(moto_server)
    store = S3BlobStore(bucket, endpoint_url=moto_server, region="us-east-1", sse="aws:kms", kms_key_id="alias/timetables")
    store.put("k", b"v")
    head = s3_client(moto_server).head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert "timetables" in head.get("SSEKMSKeyId", "")


def test_s3_delete_prefix_beyond_one_batch(moto_server: str) -> None:
    store = S3BlobStore(make_bucket(moto_server), endpoint_url=moto_server, region="us-east-1")
    store.DELETE_BATCH = 3  # the real limit is 1000; the batching logic is the same
    for i in range(7):
        store.put(f"many/{i:05d}", b"")
    store.put("manyother", b"")
    assert store.delete_prefix("many/") == 7
    assert list(store.list()) == ["manyother"]


def test_s3_missing_bucket_and_bad_config(moto_server: str) -> None:
    store = S3BlobStore("no-such-bucket-here", endpoint_url=moto_server, region="us-east-1")
    with pytest.raises(BackendUnavailable):
        store.ping()
    store.ensure_bucket()
    store.ensure_bucket()  # idempotent
    store.ping()
    with pytest.raises(StoreConfigError):
        S3BlobStore("")
    with pytest.raises(StoreConfigError):
        S3BlobStore("b", sse="rot13", client=object())
    with pytest.raises(StoreConfigError):
        S3BlobStore("b", kms_key_id="k", client=object())


def test_write_probe_leaves_nothing_and_last_modified_is_utc(blobs: BlobStore) -> None:
    blobs.check_writable()
    assert list(blobs.list("")) == []
    assert blobs.last_modified("uploads/t/u/original") is None
    blobs.put("uploads/t/u/original", b"x")
    modified = blobs.last_modified("uploads/t/u/original")
    assert modified is not None and modified.utcoffset() is not None
    assert abs((datetime.now(UTC) - modified).total_seconds()) < 60


def test_local_symlink_anywhere_in_a_write_path_is_refused(tmp_path: Path) -> None:
    """Each segment below the root is checked (and the root itself): a symlinked tenant directory or
    file, or a root replaced by a symlink, never lets a write or read leave the store; a symlink that
    stays inside the store still works, as ``resolve()`` allowed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    (root / "uploads").mkdir(parents=True)
    store = LocalBlobStore(root)
    os.symlink(outside, root / "uploads" / "tenant-a")
    with pytest.raises(InvalidBlobKey):
        store.put_deferring_directories("uploads/tenant-a/u1", b"x")
    os.symlink(outside / "file", root / "uploads" / "u2")
    with pytest.raises(InvalidBlobKey):
        store.put("uploads/u2", b"x")
    assert list(outside.iterdir()) == []
    (root / "inside").mkdir()
    os.symlink(root / "inside", root / "alias")
    store.put("alias/k", b"y")
    assert (root / "inside" / "k").read_bytes() == b"y"
    moved = tmp_path / "moved"
    root.rename(moved)
    os.symlink(outside, root)  # the root itself now points elsewhere
    with pytest.raises(InvalidBlobKey):
        store.put("uploads/t/u3", b"x")
    assert list(outside.iterdir()) == []
