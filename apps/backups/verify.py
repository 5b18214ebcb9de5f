"""Verification of an archive: its checksum, and a walk through every tar member, in one pass.

A backup is "verified" only once its stored copy was read back and (1) the SHA-256 and size of the
plain bytes match the row, (2) the gzip stream is whole (zlib checks the gzip CRC-32 and length of
every member, which tarfile's own stream mode does not), and (3) every tar header is valid and
every member's data can be read to its end. Nothing is written anywhere: this is a read.

Bytes after the archive's end are refused, except zeros (tar pads to its record size, some tools
pad a gzip file) and further gzip members (a valid gzip file may have several).

The SHA-256 runs in a thread of its own (hashlib lets go of the GIL on large buffers), so on two
cores it costs no time next to the inflate; memory stays bounded by a short queue of chunks.
"""
from __future__ import annotations

import hashlib
import queue
import tarfile
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from apps.backups.cipher import ArchiveDamaged
from apps.backups.storage import read_plain

__all__ = ["TarWalk", "verify_stored", "walk"]

BUFFER = 1 << 20
_GZIP = 16 + zlib.MAX_WBITS  # gzip wrapper: header, CRC-32 and length checked by zlib
_INFLATE_MAX = 4 << 20  # bytes inflated per call: a gzip bomb costs time, never memory
_HASH_QUEUE = 8


@dataclass(frozen=True)
class TarWalk:
    size: int
    sha256: str
    members: int
    member_bytes: int


def walk(plain_chunks: Iterable[bytes]) -> TarWalk:
    """Hash the plain tar.gz bytes and read the whole archive in the same pass."""
    hasher = _Hasher()
    try:
        members, member_bytes = _walk_tar(_inflate(hasher.feed(plain_chunks)))
    finally:
        hasher.close()
    return TarWalk(size=hasher.size, sha256=hasher.hexdigest(), members=members,
                   member_bytes=member_bytes)


def verify_stored(name: str, *, context: str, expected_sha256: str, expected_size: int) -> TarWalk:
    """Read the stored copy back (unsealed), walk it and compare it with the row's figures."""
    result = walk(_prefetched(read_plain(name, context=context)))
    if result.size != expected_size:
        raise ArchiveDamaged(f"size mismatch: {result.size} bytes stored, {expected_size} expected")
    if result.sha256 != expected_sha256.lower():
        raise ArchiveDamaged(f"checksum mismatch: SHA-256 {result.sha256[:16]}… stored, "
                             f"{expected_sha256[:16]}… expected")
    return result


def _prefetched(chunks: Iterable[bytes], depth: int = 4) -> Iterator[bytes]:
    """`chunks`, produced in a thread of their own (reading and unsealing the next chunks while
    this one is inflated), at most `depth` chunks ahead. The producer's exception is raised here."""
    pieces: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                pieces.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for piece in chunks:
                if not put(piece):
                    return
            put(done)
        except BaseException as exc:  # handed over to the consumer, raised there
            put(_Failure(exc))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="backup-read", daemon=True)
    thread.start()
    try:
        while (item := pieces.get()) is not done:
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


# --------------------------------------------------------------------------- the checksum


class _Hasher:
    """SHA-256 and size of the chunks that pass through feed(), hashed in a helper thread."""

    def __init__(self):
        self._sha = hashlib.sha256()
        self.size = 0
        self._queue: queue.Queue = queue.Queue(maxsize=_HASH_QUEUE)
        self._thread = threading.Thread(target=self._run, name="backup-sha256", daemon=True)
        self._thread.start()
        self._closed = False

    def _run(self) -> None:
        while (piece := self._queue.get()) is not None:
            self._sha.update(piece)

    def feed(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for piece in chunks:
            if piece:
                piece = bytes(piece)  # a bytes object cannot change under the hashing thread
                self.size += len(piece)
                self._queue.put(piece)
                yield piece

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()

    def hexdigest(self) -> str:
        self.close()
        return self._sha.hexdigest()


# --------------------------------------------------------------------------- gzip


def _inflate(compressed: Iterable[bytes]) -> Iterator[bytes]:
    """The inflated bytes of a gzip stream (one or more members, then optional zero padding)."""
    inflater = zlib.decompressobj(_GZIP)
    seen = 0
    carry = b""
    padding = False
    for piece in compressed:
        pending = carry + piece if carry else piece
        carry = b""
        while pending:
            if padding or inflater.eof:
                if not padding and len(pending) < 2 and pending == b"\x1f":
                    carry = pending  # a next member's magic split across two chunks
                    break
                if not padding and pending.startswith(b"\x1f\x8b"):
                    inflater = zlib.decompressobj(_GZIP)
                elif pending.count(0) == len(pending):
                    padding = True
                    break
                else:
                    raise ArchiveDamaged("the archive has data after the end of its gzip stream")
            if seen == 0 and not pending.startswith(b"\x1f\x8b"[:len(pending)]):
                raise ArchiveDamaged("not a gzip archive")
            seen += len(pending)
            try:
                out = inflater.decompress(pending, _INFLATE_MAX)
            except zlib.error as exc:
                raise ArchiveDamaged(_gzip_reason(str(exc))) from None
            pending = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            if out:
                yield out
    if seen == 0:
        raise ArchiveDamaged("the archive is empty")
    if not inflater.eof or carry:
        raise ArchiveDamaged("the gzip stream is truncated")


def _gzip_reason(message: str) -> str:
    if "incorrect header check" in message or "unknown compression method" in message:
        return "not a gzip archive"
    if "incorrect data check" in message or "incorrect length check" in message:
        return "the gzip checksum does not match: the archive is damaged"
    return f"the gzip data is damaged ({message})"


# --------------------------------------------------------------------------- tar


class _ForwardReader:
    """A file-like over inflated chunks for tarfile, forward only: tell() is the position, seek()
    may only skip ahead (by reading), and skip(n) passes over member data without copying it.
    tarfile's own stream mode ("r|") would join and slice every buffer on the way (three copies
    of each byte); this reader copies only the 512-byte headers."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._piece = memoryview(b"")
        self._at = 0  # position in the current piece
        self._position = 0

    def _next_piece(self) -> bool:
        piece = next(self._chunks, None)
        if piece is None:
            return False
        self._piece, self._at = memoryview(piece), 0
        return True

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        parts = []
        while size < 0 or size > 0:
            if self._at >= len(self._piece) and not self._next_piece():
                break
            end = len(self._piece) if size < 0 else min(len(self._piece), self._at + size)
            parts.append(self._piece[self._at:end])
            taken = end - self._at
            self._at = end
            self._position += taken
            if size > 0:
                size -= taken
        return b"".join(parts)

    def skip(self, size: int) -> int:
        """Pass over `size` bytes; how many there were (fewer at the end)."""
        passed = 0
        while passed < size:
            if self._at >= len(self._piece) and not self._next_piece():
                break
            taken = min(len(self._piece) - self._at, size - passed)
            self._at += taken
            passed += taken
        self._position += passed
        return passed

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or offset < self._position:
            raise tarfile.ReadError("the archive asks to be read backwards")
        self.skip(offset - self._position)
        return self._position

    def seekable(self) -> bool:
        return False


class _HeaderDamaged(tarfile.SubsequentHeaderError):
    pass


class _CheckedTarInfo(tarfile.TarInfo):
    """tarfile ends a stream quietly at a damaged header after the first member (as if it were the
    end); here any header but the end-of-archive zero block that does not parse is an error."""

    @classmethod
    def fromtarfile(cls, tarfile_):
        try:
            return super().fromtarfile(tarfile_)
        except tarfile.EOFHeaderError:
            raise
        except (tarfile.EmptyHeaderError, tarfile.TruncatedHeaderError):
            raise _HeaderDamaged("the tar archive is truncated (it has no end)") from None
        except tarfile.InvalidHeaderError as exc:
            raise _HeaderDamaged(f"a tar header is damaged ({exc})") from None


def _walk_tar(inflated: Iterator[bytes]) -> tuple[int, int]:
    reader = _ForwardReader(inflated)
    members = member_bytes = 0
    name = ""
    try:
        archive = tarfile.open(fileobj=reader, mode="r:", tarinfo=_CheckedTarInfo)
        while (member := archive.next()) is not None:
            members += 1
            name = member.name
            if member.isreg():
                member_bytes += _read_member(archive, reader, member)
        # The end-of-archive block was read; what follows may only be tar's zero padding.
        for piece in _rest(reader):
                if piece.count(0) != len(piece):
                    raise ArchiveDamaged("the archive has data after the end of its tar archive")
    except tarfile.ReadError as exc:
        text = str(exc)
        if text == "unexpected end of data":
            raise ArchiveDamaged(f"member {_shown(name)} is truncated") from None
        if text == "empty file":
            raise ArchiveDamaged("the tar archive is empty") from None
        if members == 0 and ("invalid header" in text or "bad checksum" in text):
            raise ArchiveDamaged("not a tar archive inside the gzip stream") from None
        raise ArchiveDamaged(text if text.startswith(("the tar", "a tar")) else f"the tar archive is damaged ({text})") from None
    except (tarfile.TarError, EOFError) as exc:
        raise ArchiveDamaged(f"the tar archive is damaged ({exc})") from None
    return members, member_bytes


def _read_member(archive: tarfile.TarFile, reader: _ForwardReader, member: tarfile.TarInfo) -> int:
    """Read one member's data to its end; its length."""
    if member.sparse is not None:  # GNU sparse: only tarfile knows where its data lies
        handle = archive.extractfile(member)
        total = 0
        while piece := handle.read(BUFFER):
            total += len(piece)
        return total
    # A plain member's data follows its header: pass over it (inflating it was the read).
    if reader.tell() != member.offset_data:
        reader.seek(member.offset_data)
    if reader.skip(member.size) != member.size:
        raise ArchiveDamaged(f"member {_shown(member.name)} is truncated")
    return member.size


def _rest(reader: _ForwardReader) -> Iterator[bytes]:
    while piece := reader.read(BUFFER):
        yield piece


def _shown(name: str) -> str:
    printable = "".join(c if c.isprintable() else "?" for c in name)
    return printable[:120] or "(unnamed)"
