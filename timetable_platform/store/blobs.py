"""Blob store: original documents and results. A local directory (embedded) or S3 (any endpoint).

Keys are ``/``-separated relative paths; the same validation applies to both backends so a key
that works locally works on S3 and the reverse.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from timetable_platform.store.errors import BackendUnavailable, BlobNotFound, InvalidBlobKey, StoreConfigError

HISTORICAL_PREFIX = "historical/"
_TEMP_PREFIX = ".tmp-"


def _segment(value: str, what: str) -> str:
    if not value or "/" in value or "\\" in value or value in (".", "..") or "\x00" in value:
        raise InvalidBlobKey(f"invalid {what} for a blob key: {value!r}")
    return value


UPLOADS_ROOT = "uploads/"
READY_PROBE_SEGMENT = "_ready"  # uploads/_ready/probe-*: /ready's write probe (3 segments, never an upload)
RESULTS_ROOT = "results/"
# What the platform reads or writes; anything else in the store is an operator's (or a mistake).
WATCHED_ROOTS = (UPLOADS_ROOT, RESULTS_ROOT, HISTORICAL_PREFIX)


def upload_key(tenant: str, upload_id: str) -> str:
    """Where an upload's original bytes are written: one flat name per upload in its tenant's directory.
    A directory per upload (``legacy_upload_key``) cost every submission a second inode (the mkdir) and
    an fsync of its own; the tenant's directory is shared, so a group commit syncs it once per batch."""
    return f"uploads/{_segment(tenant, 'tenant')}/{_segment(upload_id, 'upload id')}"


def legacy_upload_key(tenant: str, upload_id: str) -> str:
    """Where uploads stored before the flat layout keep their bytes (``upload_bytes`` reads both)."""
    return f"{upload_prefix(tenant, upload_id)}original"


def upload_prefix(tenant: str, upload_id: str) -> str:
    """The directory-per-upload prefix of ``legacy_upload_key`` (erasure removes what is under it)."""
    return f"uploads/{_segment(tenant, 'tenant')}/{_segment(upload_id, 'upload id')}/"


def upload_id_of_key(key: str) -> str | None:
    """The upload id a key under ``uploads/`` belongs to, in either layout; None for anything else."""
    parts = key.split("/")
    if parts[0] != UPLOADS_ROOT.rstrip("/") or len(parts) < 3:
        return None
    return parts[2]


def upload_bytes(blobs: BlobStore, tenant: str, upload_id: str) -> bytes:
    """An upload's original bytes, from the flat key or, for an upload stored before it, the legacy one.
    Raises ``BlobNotFound`` when neither exists."""
    try:
        return blobs.get(upload_key(tenant, upload_id))
    except BlobNotFound:
        return blobs.get(legacy_upload_key(tenant, upload_id))


def delete_upload_blobs(blobs: BlobStore, tenant: str, upload_id: str) -> None:
    """Remove an upload's original in both layouts (erasure)."""
    blobs.delete(upload_key(tenant, upload_id))
    blobs.delete_prefix(upload_prefix(tenant, upload_id))


def result_key(upload_id: str) -> str:
    """Where the merged timetable JSON of an upload lives."""
    return f"results/{_segment(upload_id, 'upload id')}/timetable.json"


def result_prefix(upload_id: str) -> str:
    """Everything a run wrote for an upload (timetable and intermediate candidates)."""
    return f"results/{_segment(upload_id, 'upload id')}/"


def validate_key(key: str) -> str:
    if not isinstance(key, str) or not key or key.startswith("/") or key.endswith("/"):
        raise InvalidBlobKey(f"invalid blob key: {key!r}")
    for part in key.split("/"):
        _segment(part, "key segment")
        if part.startswith(_TEMP_PREFIX):
            raise InvalidBlobKey(f"blob key segment may not start with {_TEMP_PREFIX!r}: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """A prefix is a key fragment: empty, or segments ending anywhere (``uploads/t1/`` or ``uploads/t``)."""
    if prefix == "":
        return prefix
    if prefix.startswith("/") or "\\" in prefix or "\x00" in prefix:
        raise InvalidBlobKey(f"invalid blob prefix: {prefix!r}")
    for part in prefix.split("/")[:-1]:
        _segment(part, "prefix segment")
    if prefix.split("/")[-1] in (".", ".."):
        raise InvalidBlobKey(f"invalid blob prefix: {prefix!r}")
    return prefix


def _probe_name() -> str:
    """This process's probe name: replicas sharing a bucket never remove each other's probe."""
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())[:64]
    return f"{host or 'host'}-{os.getpid()}"


def _make_dirs(directory: str) -> list[str]:
    """``mkdir -p``; returns the directories it created (their parents need an fsync to keep them)."""
    try:
        os.mkdir(directory)
    except FileExistsError:
        return []
    except FileNotFoundError:
        made = _make_dirs(os.path.dirname(directory))
        try:
            os.mkdir(directory)
        except FileExistsError:  # a concurrent put made it
            return made
        return [*made, directory]
    return [directory]


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directories(directories: Iterable[str]) -> None:
    """fsync each directory once, in first-seen order (what ``put_deferring_directories`` left to do)."""
    for directory in dict.fromkeys(directories):
        _fsync_dir(directory)


class BlobStore(ABC):
    """Bytes by key. ``get`` of a missing key raises ``BlobNotFound``; ``ping`` raises ``BackendUnavailable``."""

    @abstractmethod
    def put(self, key: str, data: bytes, *, content_type: str | None = None) -> None: ...

    def put_deferring_directories(self, key: str, data: bytes, *, content_type: str | None = None) -> list[str]:
        """``put``, except that the directories whose new entries must be fsync'd for the NAME to survive
        a power cut are returned instead of synced (``fsync_directories``); the bytes are durable. The
        first is the directory holding the new name, then the parent of each directory made for it.
        Lets a group commit sync a directory shared by a batch once. Object stores have none."""
        self.put(key, data, content_type=content_type)
        return []

    @abstractmethod
    def get(self, key: str) -> bytes: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the key; no error when it is already gone."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``, in lexical order."""

    @abstractmethod
    def ping(self) -> None: ...

    @abstractmethod
    def last_modified(self, key: str) -> datetime | None:
        """When the blob was last written (UTC), None when it does not exist."""

    def check_writable(self) -> None:
        """Write, read back and remove a probe where submissions write (``uploads/``): a store that
        answers ``ping`` may still refuse writes (read-only mount, full disk, missing permission).
        Raises ``BackendUnavailable``."""
        key = f"{UPLOADS_ROOT}{READY_PROBE_SEGMENT}/probe-{_probe_name()}"
        data = os.urandom(16)
        self.ping()
        try:
            self.put(key, data, content_type="application/octet-stream")
            if self.get(key) != data:
                raise BackendUnavailable("the blob store returned other bytes than were written")
            self.delete(key)
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise BackendUnavailable(f"blob store not writable: {exc.__class__.__name__}: {exc}") from exc

    def location(self, key: str) -> str:
        """Where ``key`` is, as an operator would look for it (a path, or ``s3://bucket/key``)."""
        return key

    def keys_outside(self, watched: tuple[str, ...], limit: int) -> list[str]:
        """Up to ``limit`` objects outside the ``watched`` prefixes, as ``location`` names them: where an
        operator may have put documents the sensors never read. An S3 store also looks outside its own
        prefix in the bucket."""
        out = []
        for key in self.list(""):
            if not key.startswith(watched):
                out.append(self.location(key))
                if len(out) >= limit:
                    break
        return out

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key under ``prefix``; returns how many. An empty prefix is refused (it means everything)."""
        if not prefix:
            raise InvalidBlobKey("refusing to delete with an empty prefix")
        keys = list(self.list(prefix))
        for key in keys:
            self.delete(key)
        return len(keys)


class LocalBlobStore(BlobStore):
    """Blobs as files under ``root``. Writes are atomic (temp file in the same directory, then rename)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        self._root_text = str(self.root)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        """The file of ``key``; never outside the root, whatever symlinks the store holds.

        The root was resolved when the store was made and a key's segments are plain names (no ``..``, no
        ``/``), so unless the root or a segment below it is a symlink the path IS the root joined with
        the key: one ``lstat`` for the root and each segment that exists tells, where ``resolve()`` took
        one per component from ``/`` (each a GIL hand-over on the submit path). A symlink, or any other
        surprise, takes the full ``resolve()`` and its check, as before."""
        validate_key(key)
        path = self._root_text
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return self._resolved(key)
            for segment in key.split("/"):
                path = f"{path}/{segment}"
                if stat.S_ISLNK(os.lstat(path).st_mode):
                    return self._resolved(key)
        except FileNotFoundError:  # nothing exists below a missing segment, so no symlink either
            pass
        except OSError:
            return self._resolved(key)
        return self.root / key

    def _resolved(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:  # symlinks pointing outside
            raise InvalidBlobKey(f"blob key escapes the store: {key!r}")
        return path

    def put(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        """Durable when it returns: the data is fsync'd before the rename, then the directory holding
        the new name and the parent of every directory made for it, since a rename or mkdir is only
        on disk once its directory is (POSIX; ext4 happens to order them, other filesystems do not).
        The API answers 202 only after this, so an accepted upload survives a power cut."""
        fsync_directories(self.put_deferring_directories(key, data, content_type=content_type))

    def put_deferring_directories(self, key: str, data: bytes, *, content_type: str | None = None) -> list[str]:
        path = self._path(key)
        directory = str(path.parent)
        made: list[str] = []
        for attempt in range(4):
            try:
                # The directory is tried first, made only when missing: it exists for all but a tenant's
                # first upload, and a mkdir answering EEXIST cost each submission a syscall and an exception.
                fd, tmp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)
                break
            except FileNotFoundError:  # missing, or a concurrent delete pruned the (then empty) directory
                if attempt == 3:
                    raise
                made += _make_dirs(directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        return [directory, *(os.path.dirname(made_dir) for made_dir in made)]

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise BlobNotFound(f"blob not found: {key}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            path.unlink()
        self._prune_empty_dirs(path.parent)

    def _prune_empty_dirs(self, directory: Path) -> None:
        while directory != self.root and directory.is_relative_to(self.root):
            try:
                directory.rmdir()
            except OSError:  # not empty (or already gone / raced): stop climbing
                return
            directory = directory.parent

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        # Walk only the deepest directory the prefix names completely.
        base_dir = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root / base_dir
        if not start.is_dir() or not start.resolve().is_relative_to(self.root):
            return
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(_TEMP_PREFIX)]
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith(_TEMP_PREFIX):
                    continue
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        yield from sorted(keys)

    def location(self, key: str) -> str:
        return f"{self.root}/{key}"

    def keys_outside(self, watched: tuple[str, ...], limit: int) -> list[str]:
        # Only the top-level entries that are not watched are walked: uploads/ and results/ may be huge.
        out: list[str] = []
        if not self.root.is_dir():
            return out
        for entry in sorted(self.root.iterdir(), key=lambda e: e.name):
            if entry.name.startswith(_TEMP_PREFIX) or f"{entry.name}/" in watched:
                continue
            keys = self.list(f"{entry.name}/") if entry.is_dir() else iter([entry.name] if entry.is_file() else [])
            for key in keys:
                if not key.startswith(watched):
                    out.append(self.location(key))
                    if len(out) >= limit:
                        return out
        return out

    def last_modified(self, key: str) -> datetime | None:
        try:
            return datetime.fromtimestamp(self._path(key).stat().st_mtime, UTC)
        except FileNotFoundError:
            return None

    def ping(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackendUnavailable(f"blob directory {self.root} unusable: {exc}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise BackendUnavailable(f"blob directory {self.root} is not writable")


class S3BlobStore(BlobStore):
    """Blobs in an S3 bucket under an optional prefix, with optional server-side encryption.

    ``sse``: "" (bucket default), "AES256" (SSE-S3) or "aws:kms" (SSE-KMS, with ``kms_key_id`` or the AWS key).
    ``endpoint_url`` targets LocalStack, MinIO or moto; credentials come from the usual boto3 chain.
    """

    DELETE_BATCH = 1000  # the DeleteObjects limit

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        sse: str = "",
        kms_key_id: str | None = None,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise StoreConfigError("S3 blob store needs a bucket (TIMETABLE_S3_BUCKET)")
        if sse not in ("", "AES256", "aws:kms"):
            raise StoreConfigError(f"unknown S3 server-side encryption {sse!r}: use '', 'AES256' or 'aws:kms'")
        if kms_key_id and sse != "aws:kms":
            raise StoreConfigError("a KMS key id needs sse='aws:kms'")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.region = region
        self.sse = sse
        self.kms_key_id = kms_key_id
        if client is None:
            import boto3
            from botocore.config import Config

            # Path-style for custom endpoints: MinIO and most S3-compatible servers have no per-bucket DNS.
            config = Config(
                retries={"max_attempts": 5, "mode": "standard"},
                s3={"addressing_style": "path"} if endpoint_url else {},
            )
            client = boto3.client("s3", region_name=region, endpoint_url=endpoint_url, config=config)
        self.client = client

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    @staticmethod
    def _error_code(exc: Exception) -> str:
        response = getattr(exc, "response", None) or {}
        return str(response.get("Error", {}).get("Code", ""))

    def ensure_bucket(self) -> None:
        """Create the bucket when missing (development and tests; production buckets come from infrastructure)."""
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        region = self.region or self.client.meta.region_name
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**kwargs)
        except ClientError as exc:
            if self._error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def put(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": data}
        if content_type:
            kwargs["ContentType"] = content_type
        if self.sse:
            kwargs["ServerSideEncryption"] = self.sse
        if self.kms_key_id:
            kwargs["SSEKMSKeyId"] = self.kms_key_id
        self.client.put_object(**kwargs)

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                raise BlobNotFound(f"blob not found: {key}") from exc
            raise
        return response["Body"].read()

    def head(self, key: str) -> dict[str, Any] | None:
        """The object's metadata (ContentType, ServerSideEncryption, ContentLength...), None when missing."""
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def last_modified(self, key: str) -> datetime | None:
        head = self.head(key)
        return head["LastModified"].astimezone(UTC) if head is not None else None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def _list_full(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        for full_key in self._list_full(prefix):
            yield full_key[len(self.prefix) :]

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def keys_outside(self, watched: tuple[str, ...], limit: int) -> list[str]:
        # The whole bucket, jumping over each watched subtree (StartAfter past its last possible key), so
        # the cost is the unwatched objects, not the uploads. Keys outside our prefix count too: a
        # `historical/...` at the bucket root is the classic mistake when TIMETABLE_S3_PREFIX is set.
        skip = tuple(self.prefix + w for w in watched)
        out: list[str] = []
        start_after = ""
        while len(out) < limit:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "MaxKeys": 1000}
            if start_after:
                kwargs["StartAfter"] = start_after
            page = self.client.list_objects_v2(**kwargs)
            contents = page.get("Contents", [])
            jumped = False
            for item in contents:
                key = item["Key"]
                under = next((p for p in skip if key.startswith(p)), None)
                if under is not None:
                    start_after, jumped = under + "\U0010ffff", True
                    break
                out.append(f"s3://{self.bucket}/{key}")
                start_after = key
                if len(out) >= limit:
                    break
            if not contents or (not jumped and not page.get("IsTruncated")):
                break
        return out

    def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise InvalidBlobKey("refusing to delete with an empty prefix")
        validate_prefix(prefix)
        deleted = 0
        batch: list[str] = []
        for full_key in self._list_full(prefix):
            batch.append(full_key)
            if len(batch) == self.DELETE_BATCH:
                deleted += self._delete_batch(batch)
                batch = []
        if batch:
            deleted += self._delete_batch(batch)
        return deleted

    def _delete_batch(self, full_keys: list[str]) -> int:
        response = self.client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in full_keys], "Quiet": True}
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise OSError(f"S3 refused to delete {len(errors)} objects, e.g. {first.get('Key')}: {first.get('Message')}")
        return len(full_keys)

    def ping(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise BackendUnavailable(f"S3 bucket {self.bucket} unreachable: {exc}") from exc
