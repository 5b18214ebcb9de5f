"""Why a backup, verification or restore failed, in words for its row, its job and its alert.

A node is an untrusted peer and a storage may be full or gone: every failure becomes one short
human sentence (Backup.failure holds at most 500 characters), never a traceback. Transfer
errors keep the client's own words ("cut off after N of M bytes", "stalled …"), which say more
than the generic reason of apps.operations.operations.failure_reason.
"""
from __future__ import annotations

MAX_REASON = 480


def shorten(text: str, limit: int = MAX_REASON) -> str:
    text = " ".join(str(text).split())  # one line, whatever a peer sent
    return text if len(text) <= limit else text[:limit - 1] + "…"


def reason_of(exc: BaseException, *, during: str = "") -> str:
    """The reason for `exc`; `during` ("the download", "the upload") names the step of a transfer."""
    from apps.operations.operations import OperationFailed, failure_reason
    from fluxpanel.fluxos.client import FluxClientError, FluxError, NodeTimeout, NodeUnreachable

    step = f" during {during}" if during else ""
    name = type(exc).__name__
    if name == "StorageFailed":  # apps.backups.storage: its text is already for a person
        return shorten(f"the backup storage failed{step}: {exc}")
    if name == "ArchiveDamaged":  # apps.backups.cipher / verify
        return shorten(f"the archive is damaged: {exc}")
    if isinstance(exc, OperationFailed):
        return shorten(str(exc))
    if isinstance(exc, NodeTimeout):
        return shorten(f"the node stopped sending{step}: {exc.message}")
    if isinstance(exc, NodeUnreachable) and during:
        return shorten(f"the node failed{step}: {exc.message}")
    if isinstance(exc, FluxError):
        return shorten(failure_reason(exc))
    if isinstance(exc, FluxClientError):
        return shorten(failure_reason(exc) + step)
    if isinstance(exc, TransferMismatch):
        return shorten(str(exc))
    return shorten(f"panel error{step}: {name}: {exc}")


class TransferMismatch(Exception):
    """What arrived is not what was announced (size or checksum); str() says how."""
