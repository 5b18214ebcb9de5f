"""The backups storage on an S3-compatible bucket (django-storages' S3Storage, with its limits).

Imported only when settings.STORAGES["backups"] names it, so a panel that keeps its backups in a
folder never loads boto3.

The endpoint is configured by the operator (FLUXPANEL_BACKUP_S3_ENDPOINT_URL), never typed by a
user, so it is not an SSRF door the way a node address is; still, a loopback, private or
link-local endpoint (a metadata service, a typo) is refused when the storage is built unless
FLUXPANEL_BACKUP_S3_ALLOW_PRIVATE allows it (development, tests, or a MinIO on the operator's own
network). The address is checked once, not pinned per connection: an operator who controls the
name controls where it points anyway.

Bounds: connect and read timeouts and few retries (an unreachable storage fails a backup in
seconds, not minutes); uploads in parts of PART_SIZE with at most IN_MEMORY_PARTS parts held at
once, so a multi-GB upload from a non-seekable stream stays within a few tens of MB.
"""
from __future__ import annotations

from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from fluxpanel.netguard import check_url

PART_SIZE = 8 << 20
IN_MEMORY_PARTS = 2
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60


class BackupS3Storage(S3Storage):
    def __init__(self, *, allow_private: bool = False, addressing_style: str | None = None,
                 **options):
        endpoint = options.get("endpoint_url")
        if endpoint:
            check_url(endpoint, allow_private=allow_private)  # OutboundRefused, in words
        options.setdefault("client_config", Config(
            connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
            retries={"max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": addressing_style or "auto"},
            # Checksums on every request: a newer boto3's default, which some S3-compatible
            # servers refuse; only when required keeps them all working.
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
        ))
        transfer = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE,
                                  max_concurrency=IN_MEMORY_PARTS)
        transfer.max_in_memory_upload_chunks = IN_MEMORY_PARTS  # not a boto3 argument; s3transfer's
        options.setdefault("transfer_config", transfer)
        super().__init__(**options)

    def describe_endpoint(self) -> str:
        return self.endpoint_url or f"AWS S3 ({self.region_name or 'default region'})"

    def stream(self, name: str, size: int):
        """The stored object's bytes in pieces of `size`, streamed from one GET (S3File would first
        copy the whole object into a temporary file)."""
        key = self._normalize_name(clean_name(name))
        body = self.bucket.Object(key).get()["Body"]
        try:
            while piece := body.read(size):
                yield piece
        finally:
            body.close()
