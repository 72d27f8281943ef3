"""Errors of the store layer. Callers map them to exit codes or HTTP problems; never a traceback."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every store error."""


class StoreConfigError(StoreError, ValueError):
    """Settings name a backend without what it needs (a bucket, a queue URL...)."""


class BackendUnavailable(StoreError):
    """A database, bucket or queue cannot be reached (``ping`` failed); a retry later may help."""


class BlobNotFound(StoreError, KeyError):
    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "blob not found"


class InvalidBlobKey(StoreError, ValueError):
    """A key that is empty, absolute, or climbs out of the store (``..``)."""


class UploadNotFound(StoreError, LookupError):
    pass


class InvalidUploadField(StoreError, ValueError):
    """An upload field the database cannot store (too long, NUL character)."""


class InvalidCursor(StoreError, ValueError):
    """A pagination cursor that this store did not hand out."""


class QueueError(StoreError):
    pass


class ReceiptInvalid(QueueError):
    """The receipt no longer names an in-flight message (deleted, expired and received again, or dead)."""
