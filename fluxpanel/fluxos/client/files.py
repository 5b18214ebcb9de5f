"""Volume browser and downloads (files, folders as zip, backup archives).

FluxOS sends a file with Express's res.download: Content-Type from the file's extension (a `.json`
file is application/json, gzip-encoded from 1 kB on), Content-Disposition `attachment`. A failed
download (missing file, path outside the volume) writes the error envelope at HTTP 200 with *no*
Content-Type, and a file that vanishes under res.download is Express's HTML 404. So a file is told
from an error by Content-Disposition only.
"""

from __future__ import annotations

from .errors import BadResponse
from .streams import iter_raw_chunks
from .transport import STREAM_READ_TIMEOUT, message_of, parse_envelope, read_body

# A download kept in memory (dest=None); with a dest file the stream bounds apply.
MAX_DOWNLOAD_IN_MEMORY = 64 * 1024 * 1024
ERROR_BODY_LIMIT = 1024 * 1024


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

    def _download(self, url: str, dest, *, max_in_memory: int = MAX_DOWNLOAD_IN_MEMORY):
        response = self._stream(url, auth=True, timeout=(self.timeout[0], STREAM_READ_TIMEOUT),
                                retry=True)
        with response:
            if "attachment" not in response.headers.get("Content-Disposition", "").lower():
                read_body(response, url, ERROR_BODY_LIMIT, deadline=None,
                          too_slow=lambda: BadResponse("slow error answer", url=url))
                if response.status_code != 200:
                    raise BadResponse(f"HTTP {response.status_code}", url=url,
                                      http_status=response.status_code, body=response.text)
                parse_envelope(response, url)  # FluxOS's error envelope raises here
                raise BadResponse("expected a file, got a FluxOS message", url=url,
                                  body=response.text)
            if response.status_code != 200:
                raise BadResponse(f"HTTP {response.status_code}", url=url,
                                  http_status=response.status_code)
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
