"""Backups: volume data, local backup archives, backup/restore tasks, archive upload."""

from __future__ import annotations

import json
from collections.abc import Mapping

from .streams import TextLineStream
from .transport import APPLICATION_JSON, message_of


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

    def upload_backup(self, app: str, component: str, fileobj, *, timeout=None) -> dict:
        """Upload an archive to `backup/upload/` for a restore with source="upload". FluxOS saves
        it under the multipart field name, so the field is named like the archive it expects."""
        name = f"backup_{component.lower()}.tar.gz"
        url = self.path_url("ioutils", "fileupload", "backup", app, component)
        return self._upload(url, name, fileobj, timeout=timeout)
