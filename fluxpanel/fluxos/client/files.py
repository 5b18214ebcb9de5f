"""Volume browser and downloads (files, folders as zip, backup archives).

FluxOS sends a file with Express's res.download: Content-Type from the file's extension (a `.json`
file is application/json, gzip-encoded from 1 kB on), Content-Disposition `attachment`. A failed
download (missing file, path outside the volume) writes the error envelope at HTTP 200 with *no*
Content-Type, and a file that vanishes under res.download is Express's HTML 404. So a file is told
from an error by Content-Disposition only.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable

from .archives import require_attachment
from .errors import BadResponse, NodeUnreachable, Unauthorized
from .streams import iter_raw_chunks
from .transport import (
    STREAM_READ_TIMEOUT,
    message_of,
    parse_upload_progress,
)

# A download kept in memory (dest=None); with a dest file the stream bounds apply.
MAX_DOWNLOAD_IN_MEMORY = 64 * 1024 * 1024
# An upload is sent in blocks of this size, read from its file as the socket takes them: large
# enough that a many-GB archive costs few Python steps, small enough to stay out of memory.
UPLOAD_BLOCK = 1024 * 1024
# A refusal drops the connection as soon as the request's headers are read (IOUtils.fileUpload
# checks before parsing), while the first bytes are still in the sockets' buffers; a drop after
# this much of the file was taken is a transfer that broke.
REFUSAL_WINDOW = 8 * 1024 * 1024
# progress(sent, total) is called at most this often (in bytes) and once at the end.
PROGRESS_EVERY = 1024 * 1024
# What FluxOS accepts as an upload's name (pathSecurity.validateFilename) and what a multipart
# header can carry without quoting.
_HEADER_UNSAFE = frozenset('"\r\n\0/\\')


class MultipartFile:
    """A multipart/form-data body of one file part, read from `fileobj` block by block as it is
    sent, never held whole in memory. Its length is known up front (len()), so requests sends it
    with a Content-Length rather than chunked, and FluxOS's formidable knows bytesExpected.

    With `size` the reader is never seeked (a decrypting stream, a pipe): exactly `size` bytes
    are sent, and a reader that ends earlier raises ValueError. Without it the file's remaining
    length is measured by seeking. `sent` counts the file's bytes handed to the socket so far.
    """

    def __init__(self, field: str, fileobj, *, size: int | None = None,
                 progress: Callable[[int, int], None] | None = None):
        if not field or field in (".", "..") or _HEADER_UNSAFE & set(field):
            raise ValueError("an upload's name has no quote, slash, backslash, NUL or line break")
        boundary = "fluxpanel" + secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                      f"filename=\"{field}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                      ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._file = fileobj
        if size is None:
            start = fileobj.tell()
            size = fileobj.seek(0, os.SEEK_END) - start
            fileobj.seek(start)
        elif isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("size is the upload's byte count")
        self._size = size
        self._progress = progress
        self.sent = 0

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._head) + self._size + len(self._tail)

    def __iter__(self):
        yield self._head
        reported = 0
        while self.sent < self._size:
            block = self._file.read(min(UPLOAD_BLOCK, self._size - self.sent))
            if not block:
                raise ValueError(f"the upload's reader ended after {self.sent} of its "
                                 f"{self._size} bytes")
            yield block
            # Resumed only when the socket took the block: this counts bytes really sent.
            self.sent += len(block)
            if self._progress is not None and (self.sent - reported >= PROGRESS_EVERY
                                               or self.sent == self._size):
                reported = self.sent
                self._progress(self.sent, self._size)
        yield self._tail


class FilesMixin:

    def folder_info(self, app: str, component: str, folder: str = "") -> list:
        """Entries of a folder relative to the component mount (`appdata/sub`; "" = root)."""
        return self._get("apps", "getfolderinfo", app, component, folder or None, auth=True)

    def create_folder(self, app: str, component: str, folder: str) -> str:
        return message_of(self._get("apps", "createfolder", app, component, folder, auth=True,
                                  read_only=False))

    def rename_object(self, app: str, component: str, old_path: str, new_name: str) -> str:
        if "/" in new_name:
            raise ValueError("the new name is a name, not a path")
        return message_of(self._get("apps", "renameobject", app, component, old_path, new_name,
                                  auth=True, read_only=False))

    def remove_object(self, app: str, component: str, path: str) -> str:
        return message_of(self._get("apps", "removeobject", app, component, path, auth=True,
                                  read_only=False))

    def download_file(self, app: str, component: str, path: str, dest=None):
        """A file from the volume: bytes, or written to `dest` (binary file) returning its size.
        A `.json` file is a file like any other (FluxOS labels it application/json)."""
        return self._download(self.path_url("apps", "downloadfile", app, component, path), dest)

    def download_folder(self, app: str, component: str, folder: str, dest=None):
        """A folder as a zip archive."""
        return self._download(self.path_url("apps", "downloadfolder", app, component, folder), dest)

    def upload_file(self, app: str, component: str, folder: str, filename: str, fileobj, *,
                    timeout=None) -> dict:
        """Upload into `folder` (relative to the component mount, "" = its root) as `filename`.
        Any type but `backup` writes into `folder`; folder and filename go in the query string
        (FluxOS reads `req.params.x || req.query.x`), so the mount root needs no empty segment."""
        url = self.path_url("ioutils", "fileupload", "file", app, component,
                            query={"folder": folder or None, "filename": filename})
        return self._upload(url, filename, fileobj, timeout=timeout)

    def _upload(self, url: str, field: str, fileobj, *, size: int | None = None,
                progress=None, timeout=None) -> dict:
        """POST one file as multipart, streamed; FluxOS's reply is progress arrays then the field
        name, or an error envelope inside that stream."""
        body = MultipartFile(field, fileobj, size=size, progress=progress)
        headers = self._headers(auth=True, per_user=False, content_type=body.content_type)
        try:
            response = self._fetch("POST", url, headers=headers, data=body,
                                   timeout=timeout or (self.timeout[0], STREAM_READ_TIMEOUT),
                                   budget=self.stream_bounds.max_seconds)
        except NodeUnreachable as exc:
            if REFUSAL_WINDOW <= body.sent < body.size:
                # The node had taken a good part of the file: a broken transfer, not a refusal.
                raise NodeUnreachable(f"upload cut off after {body.sent} of {body.size} bytes: "
                                      "the node dropped the connection", url=url) from exc
            # On missing privilege or parameters, or a folder it refuses, the node just drops
            # the connection (IOUtils.fileUpload's catch: res.connection.destroy()).
            cut = f" after {body.sent} of {body.size} bytes" if body.sent < body.size else ""
            raise Unauthorized(f"upload refused: connection dropped by the node{cut} (no "
                               "app-owner privilege, or a folder it does not accept)", url=url,
                               code=401, name="Unauthorized") from exc
        return parse_upload_progress(response.text, url)

    def _download(self, url: str, dest, *, max_in_memory: int = MAX_DOWNLOAD_IN_MEMORY):
        response = self._stream(url, auth=True, timeout=(self.timeout[0], STREAM_READ_TIMEOUT),
                                retry=True)
        require_attachment(response, url, "a file")
        with response:
            size = 0
            kept = []
            for chunk in iter_raw_chunks(response, url, self.stream_bounds):
                size += len(chunk)
                if dest is None:
                    if size > max_in_memory:
                        raise BadResponse(f"file larger than {max_in_memory // (1024 * 1024)} MiB "
                                          "(give a dest to write it to)", url=url)
                    kept.append(chunk)
                else:
                    dest.write(chunk)
            return b"".join(kept) if dest is None else size
