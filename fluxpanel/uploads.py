"""An upload larger than the panel's limit stops being written to disk at the limit: OPERATIONS_UPLOAD_MAX_MB,
or BACKUP_UPLOAD_MAX_MB for an archive uploaded to the backups pages (/backups/…).

Django spools every uploaded file to a temporary file while it parses the body (and the secrets
middleware parses every write's body before any view runs), so a view's own size check comes only
after the whole file is on the server's disk. This handler, first in FILE_UPLOAD_HANDLERS, counts
each file's bytes and, past the limit, keeps the rest from the handlers after it; the file then
arrives as an empty upload whose `size` is the size it would have had, so the view's size check
refuses it with its own message ("larger than the panel's upload limit") and nothing is truncated
silently. The body is still read to its end, so the browser gets that answer rather than a reset.
"""
from __future__ import annotations

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


def upload_limit_mb(path: str) -> int:
    """The limit that applies to an upload posted to `path`."""
    return settings.BACKUP_UPLOAD_MAX_MB if path.startswith("/backups/") else settings.OPERATIONS_UPLOAD_MAX_MB


class UploadSizeLimit(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.limit = upload_limit_mb(getattr(self.request, "path", "")) * 1024 * 1024
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        return raw_data if self.received <= self.limit else None  # None: later handlers get nothing

    def file_complete(self, file_size):
        if self.received <= self.limit:
            return None  # the next handler (memory or temporary file) has the whole file
        return InMemoryUploadedFile(BytesIO(b""), self.field_name, self.file_name, self.content_type,
                                    self.received, self.charset)
