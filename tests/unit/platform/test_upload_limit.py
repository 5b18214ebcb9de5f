"""The upload handler that stops spooling a file past OPERATIONS_UPLOAD_MAX_MB, through Django's
own multipart parser (as a request's body is parsed): a file under the limit arrives whole; one
over it arrives empty, keeping its true size so the view refuses it, and no later handler (the
temporary file on disk) received more than the limit."""
from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser

from fluxpanel.uploads import UploadSizeLimit

MiB = 1024 * 1024
BOUNDARY = "fluxpanelboundary"


class Counting(FileUploadHandler):
    """A later handler in the chain that records how many bytes reached it (then passes them on)."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.seen = 0

    def receive_data_chunk(self, raw_data, start):
        self.seen += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


def parse(content: bytes):
    body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nupload\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()
    meta = {"CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}", "CONTENT_LENGTH": str(len(body))}
    counting = Counting()
    handlers = [UploadSizeLimit(), counting, TemporaryFileUploadHandler()]
    post, files = MultiPartParser(meta, BytesIO(body), handlers).parse()
    return post, files["file"], counting.seen


@pytest.fixture(autouse=True)
def one_mib_limit(settings):
    settings.OPERATIONS_UPLOAD_MAX_MB = 1


def test_it_lets_a_file_within_the_limit_through_whole():
    content = bytes(range(256)) * 4096  # exactly 1 MiB
    post, uploaded, seen = parse(content)
    assert post["action"] == "upload"
    assert uploaded.size == MiB and uploaded.read() == content and seen == MiB


def test_it_stops_spooling_a_file_past_the_limit_and_keeps_its_true_size():
    post, uploaded, seen = parse(b"x" * (3 * MiB))
    assert post["action"] == "upload"  # the rest of the form is still read
    assert uploaded.size == 3 * MiB and uploaded.name == "blob.bin"
    assert uploaded.read() == b""
    assert seen <= MiB + 64 * 1024  # later handlers (the file on disk) got no more than about the limit


def test_it_gives_an_archive_uploaded_to_the_backups_pages_its_own_limit(settings):
    from fluxpanel.uploads import upload_limit_mb

    settings.OPERATIONS_UPLOAD_MAX_MB, settings.BACKUP_UPLOAD_MAX_MB = 5, 700
    assert upload_limit_mb("/backups/app/3/upload/") == 700
    assert upload_limit_mb("/operate/3/files/") == 5
