"""The backup storage: where sealed archives are kept, through Django's storage API.

`storages["backups"]` (settings.STORAGES): a folder under the data folder (FileSystemStorage,
files 0600 in 0700 folders), or an S3-compatible bucket (apps.backups.s3.BackupS3Storage). Every
archive goes in sealed (apps.backups.cipher) and comes out unsealed, in streams: `store` never
holds an archive in memory, whatever its size.

Failures of the storage (full, refused, unreachable) become StorageFailed with a few words for the
backup row; a failure of the *producer* of the plain bytes (a node that dropped the download) is
the producer's own exception, raised unchanged. Either way the partial object is removed first.
"""
from __future__ import annotations

import errno
import io
import re
from collections.abc import Iterable, Iterator
from datetime import UTC

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.core.files.storage.handler import InvalidStorageError

from apps.backups.cipher import CHUNK, TAG_SIZE, seal, unseal

__all__ = [
    "StorageFailed", "backup_storage", "describe_storage", "exists", "read_plain", "read_stored",
    "remove", "storage_name_for", "store",
]

READ_SIZE = CHUNK + TAG_SIZE  # one sealed record per read
_REASON_MAX = 300


class StorageFailed(Exception):
    """The backup storage failed; str() is a human reason."""


def backup_storage() -> Storage:
    try:
        return storages["backups"]
    except InvalidStorageError as exc:
        raise StorageFailed("the backup storage is not configured (no STORAGES['backups'])") from exc
    except Exception as exc:  # building the storage: an S3 endpoint refused or unresolvable
        raise StorageFailed(_reason(exc, None)) from exc


def describe_storage() -> str:
    storage = backup_storage()
    bucket = getattr(storage, "bucket_name", None)
    return f"s3:{bucket}" if bucket else "folder"


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _segment(text: str) -> str:
    # App and component names are alphanumeric in FluxOS; anything else never becomes a path part.
    return _UNSAFE.sub("_", text or "")[:64] or "_"


def storage_name_for(backup) -> str:
    when = backup.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return (f"teams/{int(backup.team_id)}/apps/{_segment(backup.app.name)}/"
            f"{_segment(backup.component)}/{when}-{int(backup.pk)}.tar.gz.sealed")


# --------------------------------------------------------------------------- writing


class _Producer:
    """The caller's plain chunks, remembering an exception raised by them (not by the storage)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                piece = next(self._chunks)
            except StopIteration:
                return
            except BaseException as exc:
                self.error = exc
                raise
            yield piece


class _StreamReader(io.RawIOBase):
    """A read-only, non-seekable file over an iterator of bytes. read(n) returns exactly n bytes
    until the end (s3transfer takes a short read for the last part)."""

    def __init__(self, pieces: Iterator[bytes]):
        self._pieces = pieces
        self._buffer = b""
        self._done = False
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        # Sealed records are gathered and joined once: one copy of each byte, however big `size`.
        parts, have = [], 0
        if self._buffer:
            parts.append(self._buffer)
            have = len(self._buffer)
            self._buffer = b""
        while not self._done and (size < 0 or have < size):
            piece = next(self._pieces, None)
            if piece is None:
                self._done = True
            else:
                parts.append(piece)
                have += len(piece)
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if 0 <= size < len(data):
            data, self._buffer = data[:size], data[size:]
        self.bytes_read += len(data)
        return data

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[:len(data)] = data
        return len(data)


class _SealedUpload(File):
    """What the storage saves: the sealed stream. chunks() hands whole sealed records to
    FileSystemStorage (1 MiB writes); read() serves S3's uploader."""

    def __init__(self, sealed: Iterator[bytes], name: str):
        self._sealed = _CountingIterator(sealed)
        super().__init__(_StreamReader(self._sealed), name)

    @property
    def stored_bytes(self) -> int:
        return self._sealed.count

    def chunks(self, chunk_size=None):
        yield from self._sealed

    def multiple_chunks(self, chunk_size=None):
        return True


class _CountingIterator:
    def __init__(self, pieces: Iterator[bytes]):
        self._pieces = pieces
        self.count = 0

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        piece = next(self._pieces)
        self.count += len(piece)
        return piece


def store(name: str, plain_chunks: Iterable[bytes], *, context: str) -> int:
    """Seal `plain_chunks` into the backup storage under exactly `name`; the bytes stored.

    Refuses a name that exists (names are unique per backup: an existing one is someone else's
    archive). On any failure the partial object is removed."""
    storage = backup_storage()
    if exists(name):
        raise StorageFailed(f"the backup storage already holds {name}")
    producer = _Producer(plain_chunks)
    upload = _SealedUpload(seal(producer, context=context), name)
    try:
        saved = storage.save(name, upload)
    except BaseException as exc:
        _remove_partial(storage, name)
        if producer.error is not None:
            raise producer.error from None
        if isinstance(exc, Exception) and not isinstance(exc, StorageFailed):
            raise StorageFailed(_reason(exc, storage)) from exc
        raise
    if saved != name:  # the storage picked another name after all: not ours to keep
        _remove_partial(storage, saved)
        raise StorageFailed(f"the backup storage stored {name} under another name ({saved})")
    return upload.stored_bytes


def _remove_partial(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # noqa: BLE001 - the first failure is the one to report
        pass


# --------------------------------------------------------------------------- reading, removing


def read_stored(name: str) -> Iterator[bytes]:
    """The stored (sealed) bytes of `name`, in pieces of about one sealed record."""
    storage = backup_storage()
    try:
        stream = getattr(storage, "stream", None)
        if stream is not None:
            yield from stream(name, READ_SIZE)
            return
        with storage.open(name, "rb") as handle:
            while piece := handle.read(READ_SIZE):
                yield piece
    except FileNotFoundError as exc:
        raise StorageFailed(f"the stored archive {name} is missing") from exc
    except Exception as exc:
        if _is_missing(exc):
            raise StorageFailed(f"the stored archive {name} is missing") from exc
        raise StorageFailed(_reason(exc, storage)) from exc


def read_plain(name: str, *, context: str) -> Iterator[bytes]:
    """The plain archive of `name`, unsealed on the fly (ArchiveDamaged if it does not open)."""
    return unseal(read_stored(name), context=context)


def remove(name: str) -> None:
    storage = backup_storage()
    try:
        storage.delete(name)
    except FileNotFoundError:
        pass
    except Exception as exc:
        if not _is_missing(exc):
            raise StorageFailed(_reason(exc, storage)) from exc


def exists(name: str) -> bool:
    storage = backup_storage()
    try:
        return storage.exists(name)
    except Exception as exc:
        raise StorageFailed(_reason(exc, storage)) from exc


# --------------------------------------------------------------------------- reasons


def _is_missing(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


def _endpoint(storage: Storage | None) -> str:
    describe = getattr(storage, "describe_endpoint", None)
    return describe() if describe else "the configured endpoint"


def _reason(exc: BaseException, storage: Storage | None) -> str:
    """A few words for the row: what failed, never a credential (botocore's messages hold none)."""
    return _short(_words(exc, storage))


def _words(exc: BaseException, storage: Storage | None) -> str:
    from fluxpanel.netguard import OutboundRefused

    if isinstance(exc, OutboundRefused):
        return f"the S3 storage endpoint is refused: {exc}"
    if isinstance(exc, OSError) and not _is_botocore(exc):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "the backup storage is full"
        if exc.errno == errno.EFBIG:
            return "the backup storage is full (the file size limit was reached)"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"the backup storage refused the write: {exc.strerror}"
        return f"the backup storage failed: {exc.strerror or exc}"
    if _is_botocore(exc):
        return _botocore_words(exc, storage)
    return f"the backup storage failed: {exc}"


def _is_botocore(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in {"botocore", "boto3", "s3transfer"}


def _botocore_words(exc: BaseException, storage: Storage | None) -> str:
    from boto3.exceptions import S3UploadFailedError
    from botocore import exceptions as boto

    where = _endpoint(storage)
    if isinstance(exc, (boto.EndpointConnectionError, boto.ConnectTimeoutError,
                        boto.ReadTimeoutError, boto.ConnectionClosedError)):
        return f"cannot reach the S3 storage at {where}: {_detail(exc)}"
    if isinstance(exc, boto.NoCredentialsError):
        return "the S3 storage has no credentials configured"
    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "error"), error.get("Message", "")
        if code in {"EntityTooLarge", "QuotaExceeded", "XMinioStorageFull"}:
            return f"the backup storage is full (S3 at {where}: {code})"
        return f"the S3 storage at {where} refused: {code}" + (f" ({message})" if message else "")
    if isinstance(exc, S3UploadFailedError):
        return f"the S3 storage at {where} refused the upload: {exc}"
    return f"the S3 storage at {where} failed: {_detail(exc)}"


def _detail(exc: BaseException) -> str:
    kwargs = getattr(exc, "kwargs", {}) or {}
    inner = kwargs.get("error")
    return str(inner or exc)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _REASON_MAX else text[:_REASON_MAX - 1] + "…"
