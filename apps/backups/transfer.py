"""Moving archives between a node and the backup storage, streamed, in bounded memory.

- Node → storage (`node_to_storage`): FluxOS's `downloadlocalfile` of the component's local
  archive, bounded in size, total time and stall (BACKUP_MAX_GB, BACKUP_TRANSFER_MAX_S,
  BACKUP_STALL_S), hashed on the way (SHA-256 of the plain archive) and handed chunk by chunk to
  `storage.store`, which encrypts and writes it and removes its partial file when anything fails.
  A download that ends short of the size the node announced is a failure, never a smaller backup.
- Storage → node (`storage_to_node`): the stored archive decrypted on the fly (`read_plain`)
  behind a file-like reader, uploaded to FluxOS's `backup/upload/` with its known size; the
  reader checks size and checksum against the row as the bytes go, so a wrong archive is never
  silently restored.
- Progress: at most one line every PROGRESS_EVERY_S seconds (bytes of expected, MB/s).
"""
from __future__ import annotations

import hashlib
import queue
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from apps.backups.reasons import TransferMismatch

PROGRESS_EVERY_S = 3.0
MB = 1024 * 1024
UPLOAD_CONNECT_S = 3.05


class BackgroundDigest:
    """SHA-256 computed on another thread while the caller goes on with the bytes: hashlib lets go
    of the GIL for large buffers, so hashing overlaps the download and the encrypted write instead
    of adding to them (on a fast link SHA-256 is the slowest step). At most QUEUED chunks wait, so
    memory stays bounded; chunks are immutable bytes, shared without a copy."""

    QUEUED = 8

    def __init__(self):
        self._digest = hashlib.sha256()
        self._chunks: queue.Queue = queue.Queue(maxsize=self.QUEUED)
        self._thread = threading.Thread(target=self._run, name="backup-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            self._digest.update(chunk)

    def update(self, chunk: bytes) -> None:
        self._chunks.put(chunk)

    def hexdigest(self) -> str:
        """Waits for the queued chunks; the digest is final after this."""
        self.close()
        return self._digest.hexdigest()

    def close(self) -> None:
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()


def download_bounds():
    from fluxpanel.fluxos.client.streams import StreamBounds

    return StreamBounds(max_bytes=int(settings.BACKUP_MAX_GB) * 1024 ** 3,
                        max_seconds=float(settings.BACKUP_TRANSFER_MAX_S),
                        stall_s=float(settings.BACKUP_STALL_S))


def size_text(count: int | None) -> str:
    if count is None:
        return "? bytes"
    if count < 10 * 1024:
        return f"{count} bytes"
    if count < 10 * MB:
        return f"{count / 1024:.1f} KB"
    if count < 10 * 1024 * MB:
        return f"{count / MB:.1f} MB"
    return f"{count / (1024 * MB):.2f} GB"


class Progress:
    """Calls `report(text, percent)` at most every `every` seconds (and once at the end)."""

    def __init__(self, what: str, report, *, every: float = PROGRESS_EVERY_S):
        self.what, self.report, self.every = what, report, every
        self.started = time.monotonic()
        self.last = self.started

    def update(self, done: int, total: int | None, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.every:
            return
        self.last = now
        seconds = max(now - self.started, 1e-6)
        rate = done / MB / seconds
        percent = min(100, done * 100 // total) if total else None
        of = f" of {size_text(total)}" if total else ""
        pct = f" ({percent} %)" if percent is not None else ""
        self.report(f"{self.what}: {size_text(done)}{of}{pct}, {rate:.1f} MB/s", percent)


@dataclass(frozen=True)
class Transferred:
    size: int
    sha256: str
    stored_size: int
    seconds: float


def node_to_storage(client, app_name: str, archive_path: str, *, storage_name: str, context: str,
                    progress: Progress | None = None) -> Transferred:
    """Download the node's archive at `archive_path` into the storage as `storage_name`."""
    from apps.backups import storage

    started = time.monotonic()
    digest = BackgroundDigest()
    counted = {"bytes": 0, "expected": None}

    def chunks():
        with client.open_backup_file(archive_path, app_name, bounds=download_bounds()) as download:
            expected = getattr(download, "expected_size", None)
            counted["expected"] = expected if isinstance(expected, int) and expected >= 0 else None
            for chunk in download:
                if not chunk:
                    continue
                digest.update(chunk)
                counted["bytes"] += len(chunk)
                if progress is not None:
                    progress.update(counted["bytes"], counted["expected"])
                yield chunk
        if counted["expected"] is not None and counted["bytes"] != counted["expected"]:
            # Raised inside the producer: store() drops its partial file and re-raises it.
            raise TransferMismatch(f"the node sent {counted['bytes']} bytes but announced "
                                   f"{counted['expected']}")
        if counted["bytes"] == 0:
            raise TransferMismatch("the node sent an empty archive")

    try:
        stored = storage.store(storage_name, chunks(), context=context)
    finally:
        digest.close()
    if progress is not None:
        progress.update(counted["bytes"], counted["expected"] or counted["bytes"], final=True)
    return Transferred(size=counted["bytes"], sha256=digest.hexdigest(), stored_size=int(stored),
                       seconds=time.monotonic() - started)


class PlainReader:
    """A read()-able view of a stored archive, decrypted chunk by chunk. At its end it checks the
    size and SHA-256 against what the row recorded and raises TransferMismatch otherwise (the
    upload then fails instead of finishing with a wrong archive)."""

    def __init__(self, chunks, *, size: int, sha256: str, progress: Progress | None = None):
        self._chunks = iter(chunks)
        self._buffer = b""
        self._digest = hashlib.sha256()
        self.size, self.sha256, self.progress = size, sha256, progress
        self.sent = 0
        self._ended = False

    def read(self, count: int = -1) -> bytes:
        while not self._ended and (count < 0 or len(self._buffer) < count):
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._ended = True
                self._check()
                break
            self._digest.update(chunk)
            self._buffer += chunk
        if count < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:count], self._buffer[count:]
        self.sent += len(data)
        if self.progress is not None and data:
            self.progress.update(self.sent, self.size)
        return data

    def _check(self) -> None:
        total = self.sent + len(self._buffer)
        if total != self.size:
            raise TransferMismatch(f"the stored archive holds {total} bytes, the backup recorded {self.size}")
        if self._digest.hexdigest() != self.sha256:
            raise TransferMismatch("the stored archive's checksum differs from the backup's")

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


def storage_to_node(client, app_name: str, component: str, backup, *, progress: Progress | None = None) -> int:
    """Upload the stored `backup` to the node for a restore (type upload); the bytes the node
    confirmed. TransferMismatch when the node does not confirm the whole file under its name."""
    from apps.backups import storage

    reader = PlainReader(storage.read_plain(backup.storage_name, context=f"backup:{backup.pk}"),
                         size=int(backup.size), sha256=backup.sha256, progress=progress)

    def on_progress(sent, total):
        if progress is not None and isinstance(sent, int):
            progress.update(sent, backup.size)

    try:
        reply = client.upload_backup(app_name, component, reader, size=int(backup.size), progress=on_progress,
                                     timeout=(UPLOAD_CONNECT_S, float(settings.BACKUP_TRANSFER_MAX_S)))
    finally:
        reader.close()
    return confirmed_bytes(reply, component, int(backup.size))


def confirmed_bytes(reply, component: str, size: int) -> int:
    """The node's upload reply checked: the archive name FluxOS restores from, every byte received."""
    expected_name = f"backup_{component.lower()}.tar.gz"
    if not isinstance(reply, dict) or reply.get("name") != expected_name:
        named = reply.get("name") if isinstance(reply, dict) else None
        raise TransferMismatch(f"the node did not confirm the upload as {expected_name} "
                               f"(it answered {str(named)[:80]!r})")
    steps = [p for p in reply.get("progress") or [] if isinstance(p, list | tuple) and len(p) == 2
             and all(isinstance(n, int) and not isinstance(n, bool) for n in p)]
    received = steps[-1][0] if steps else None
    if received is not None and received < size:
        raise TransferMismatch(f"the node received {received} of {size} bytes")
    return received if received is not None else size
