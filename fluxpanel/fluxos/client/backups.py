"""Backups: volume data, local backup archives, backup/restore tasks, archive transfer.

FluxOS's appendBackupTask tars a component's `appdata` into
`<mount>/backup/local/backup_<component lowercase>.tar.gz`, `<mount>` being what
getvolumedataofcomponent answers (IOUtils.getVolumeInfo matches `flux<component>_<app>`; for a
v1–v3 app, which has no components, it matches `flux<app>` only when the component is the
string "null", which then also names the archive: `backup_null.tar.gz`). Archives are streamed
both ways (open_backup_file, upload_backup) so that a many-GB archive never sits in memory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping

from .archives import ArchiveDownload, open_archive
from .deadline import CallDeadline
from .streams import StreamBounds, TextLineStream
from .transport import APPLICATION_JSON, message_of

__all__ = ["ArchiveDownload", "BackupsMixin", "local_archive_path"]


def local_archive_path(mount: str, component: str) -> str:
    """Where FluxOS's backup task leaves a component's archive (advancedWorkflows.appendBackupTask)."""
    if not mount or not component:
        raise ValueError("a mount and a component are needed")
    return f"{mount.rstrip('/')}/backup/local/backup_{component.lower()}.tar.gz"


class BackupsMixin:

    def volume_info(self, app: str, component: str, *, multiplier: str = "MB", decimal: int = 0,
                    fields: list[str] | None = None) -> dict:
        """df of the component volume; `mount` is the host path the backup endpoints take."""
        return self._get("backup", "getvolumedataofcomponent", app, component, multiplier,
                         decimal, ",".join(fields) if fields else None, auth=True)

    def local_backup_list(self, path: str, app: str, *, multiplier: str = "MB",
                          decimal: int = 0, number: bool = True) -> list:
        """`*.tar.gz` under an absolute backup path. FluxOS only reads the app name from the 5th
        path parameter, so the ones before it are always sent."""
        return self._get("backup", "getlocalbackuplist", path, multiplier, decimal, number, app,
                         auth=True)

    def remote_file_size(self, file_url: str, app: str, *, multiplier: str = "MB",
                         decimal: int = 0, number: bool = True):
        return self._get("backup", "getremotefilesize", file_url, multiplier, decimal, number, app,
                         auth=True)

    def remove_backup_file(self, file_path: str, app: str):
        return message_of(self._get("backup", "removebackupfile", file_path, app, auth=True,
                                  read_only=False))

    def download_backup_file(self, file_path: str, app: str, dest=None):
        return self._download(self.path_url("backup", "downloadlocalfile", file_path, app), dest)

    def open_backup_file(self, file_path: str, app: str, *, bounds: StreamBounds) -> ArchiveDownload:
        """Open the archive at an absolute `file_path` (e.g. local_archive_path(...)) for a
        streamed read: iterate the ArchiveDownload for raw chunks, within `bounds` (its stall_s
        is the longest silence tolerated, also before the headers). FluxOS's error envelope
        raises its typed error here, before any byte is handed out."""
        url = self.path_url("backup", "downloadlocalfile", file_path, app)
        headers = self._headers(auth=True, per_user=False, content_type=None)
        timeout = (self.timeout[0], bounds.stall_s)
        with CallDeadline(time.monotonic() + timeout[0] + timeout[1]) as deadline:
            response = self._send("GET", url, headers=headers, timeout=timeout, retry=True,
                                  deadline=deadline)
        return open_archive(response, url, bounds)

    def start_backup(self, app: str, components: list[str], *, timeout=None) -> TextLineStream:
        """Back up the components' appdata to `backup/local/backup_<c>.tar.gz`; streams lines.
        This route reads a parsed JSON body, so unlike other POSTs it goes out as application/json."""
        body = {"appname": app, "backup": [{"component": c, "backup": True} for c in components]}
        return self._task("appendbackuptask", body, timeout)

    def start_restore(self, app: str, components: list[str], *, source: str = "local",
                      urls: Mapping[str, str] | None = None, timeout=None) -> TextLineStream:
        """Restore components from a `local`, `remote` (url per component) or `upload` archive."""
        if source not in ("local", "remote", "upload"):
            raise ValueError("source is local, remote or upload")
        restore = []
        for component in components:
            item = {"component": component, "restore": True}
            if source == "remote":
                item["url"] = (urls or {})[component]
            restore.append(item)
        body = {"appname": app, "type": source, "restore": restore}
        return self._task("appendrestoretask", body, timeout)

    def _task(self, route: str, body: dict, timeout) -> TextLineStream:
        url = self.path_url("apps", route)
        payload = json.dumps(body, separators=(",", ":")).encode()
        response = self._stream(url, method="POST", content_type=APPLICATION_JSON, data=payload,
                                timeout=timeout)
        return TextLineStream(response, url, self.stream_bounds)

    def upload_backup(self, app: str, component: str, fileobj, *, size: int | None = None,
                      progress: Callable[[int, int], None] | None = None, timeout=None) -> dict:
        """Upload an archive to `backup/upload/` for a restore with source="upload". FluxOS saves
        it under the multipart field name, so the field is named like the archive it expects.

        `fileobj` is a seekable file, or any reader when `size` (its byte count) is given; a
        reader that ends short of `size` raises ValueError. `progress(sent, total)` is called as
        the archive's bytes go out (about every MiB, and at the end)."""
        name = f"backup_{component.lower()}.tar.gz"
        url = self.path_url("ioutils", "fileupload", "backup", app, component)
        return self._upload(url, name, fileobj, size=size, progress=progress, timeout=timeout)
