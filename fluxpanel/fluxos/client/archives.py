"""A backup archive streamed from a node (`/backup/downloadlocalfile`), never held in memory.

FluxOS (backupRestoreService.downloadLocalFile) answers a file with Express's res.download:
Content-Type application/gzip (not compressed: compression() skips it), Content-Length of the
file, Content-Disposition `attachment; filename="<name>"`. Any failure before that (missing
parameters, no privilege, a path outside the backup folders, a missing file: its `chmod` fails)
is an error envelope at HTTP 200 through res.json. So a file is told from an error by the
attachment header, as for the volume browser's downloads.

Archives can be many GB, so the body is read in large raw pieces (read1, up to READ_PIECE: one
call per piece, no re-buffering) and bounded like every stream: total bytes, total time, and the
socket's read timeout is the stall bound (a node that goes silent mid-file). A body that ends
before its Content-Length is a broken transfer, said with the bytes that arrived.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import requests
import urllib3.exceptions

from .errors import BadResponse, NodeTimeout, NodeUnreachable
from .streams import StreamBounds
from .transport import parse_envelope, read_body

# Large pieces keep the per-chunk Python overhead negligible next to a bare streamed copy.
READ_PIECE = 1024 * 1024
ERROR_BODY_LIMIT = 1024 * 1024


def declared_length(response: requests.Response) -> int | None:
    """Content-Length as an int when it is plain digits (a node could send anything)."""
    value = response.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() and len(value) < 20 else None


class ArchiveDownload:
    """An open archive download: iterate it for its raw byte chunks; a context manager that
    releases the connection. `expected_size` is the announced Content-Length (None when the node
    sent none, or sent the body content-encoded, where that length is not the file's)."""

    def __init__(self, response: requests.Response, url: str, bounds: StreamBounds):
        self.response = response
        self.url = url
        self.bounds = bounds
        self._wire_length = declared_length(response)
        encoded = response.headers.get("Content-Encoding", "identity").strip().lower()
        self.expected_size = self._wire_length if encoded in ("", "identity") else None
        if self._wire_length is not None and self._wire_length > bounds.max_bytes:
            response.close()
            raise BadResponse(f"archive of {self._wire_length} bytes is over the "
                              f"{bounds.max_bytes}-byte limit", url=url)
        self.received = 0  # decoded bytes handed out so far

    def __enter__(self) -> ArchiveDownload:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.response.close()

    def __iter__(self) -> Iterator[bytes]:
        raw = self.response.raw
        started = time.monotonic()
        try:
            while True:
                data = raw.read1(READ_PIECE, decode_content=True)
                if not data:
                    break
                self.received += len(data)
                if self.received > self.bounds.max_bytes:
                    raise BadResponse(f"archive larger than {self.bounds.max_bytes} bytes",
                                      url=self.url)
                if time.monotonic() - started > self.bounds.max_seconds:
                    raise NodeTimeout(f"archive still arriving after {self.bounds.max_seconds:g} s",
                                      url=self.url, phase="read")
                yield data
            # urllib3 enforces the length too; counting here makes it independent of that.
            if self._wire_length is not None and raw.tell() < self._wire_length:
                raise self._cut_off(raw.tell())
        except (urllib3.exceptions.ReadTimeoutError, requests.Timeout, TimeoutError) as exc:
            raise NodeTimeout(f"archive stalled: nothing for {self.bounds.stall_s:g} s after "
                              f"{raw.tell()} bytes", url=self.url, phase="read") from exc
        except urllib3.exceptions.DecodeError as exc:
            raise BadResponse(f"undecodable archive body: {exc}", url=self.url) from exc
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
            raise self._cut_off(raw.tell()) from exc
        finally:
            self.response.close()

    def _cut_off(self, got: int) -> NodeUnreachable:
        of = f" of {self._wire_length}" if self._wire_length is not None else ""
        return NodeUnreachable(f"archive download cut off after {got}{of} bytes", url=self.url)


def require_attachment(response: requests.Response, url: str, what: str) -> None:
    """Raise the node's typed error (closing the response) unless it answered 200 with a file.
    FluxOS sends a file as an attachment and every refusal as its JSON envelope, often with HTTP
    200, so only Content-Disposition tells them apart; the error body read is bounded."""
    if "attachment" not in response.headers.get("Content-Disposition", "").lower():
        with response:
            read_body(response, url, ERROR_BODY_LIMIT, deadline=None,
                      too_slow=lambda: NodeTimeout("slow error answer", url=url))
            if response.status_code != 200:
                raise BadResponse(f"HTTP {response.status_code}", url=url,
                                  http_status=response.status_code, body=response.text)
            parse_envelope(response, url)  # FluxOS's error envelope raises here
            raise BadResponse(f"expected {what}, got a FluxOS message", url=url, body=response.text)
    if response.status_code != 200:
        response.close()
        raise BadResponse(f"HTTP {response.status_code}", url=url, http_status=response.status_code)


def open_archive(response: requests.Response, url: str, bounds: StreamBounds) -> ArchiveDownload:
    """The download of an answered request, or the node's typed error when it sent no file."""
    require_attachment(response, url, "an archive")
    return ArchiveDownload(response, url, bounds)
