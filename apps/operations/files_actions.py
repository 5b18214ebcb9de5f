"""The volume browser's writes (and downloads): operator role (refusals audited), the target
checked, the path checked before any node is asked, then one call and its audit row
(`files.mkdir`, `files.rename`, `files.delete`, `files.upload`, `files.download`), a failure
recorded as such. Each raises ValidationError with what to tell the person."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent
from apps.accounts.models import AuditEntry, Membership, Role
from apps.operations import volumes


def _check_target(membership: Membership, app, instance, component: str) -> None:
    from apps.deployments.sync import component_names

    if app.team_id != membership.team_id:
        raise ValidationError("This app belongs to another team.")
    if instance is None or instance.app_id != app.pk:
        raise ValidationError(f"Choose an instance of {app.name}.")
    if component not in component_names(app.spec or {}):
        raise ValidationError(f"{app.name} has no component “{component}”.")


def _run(event: str, *, membership: Membership, app, instance, component: str, call, **detail):
    """Role, target, then the call; its audit row either way once the node was asked."""
    require_role_audited(membership, Role.OPERATOR, f"operations.files_actions.{event.split('.')[1]}")
    _check_target(membership, app, instance, component)
    detail = {"instance": instance.location, "component": component, **detail}
    try:
        result = call()
    except volumes.PathRefused as exc:  # refused before any call: nothing happened
        raise ValidationError(str(exc)) from exc
    except volumes.VolumeError as exc:
        with transaction.atomic():
            audit.record(team=membership.team, actor=membership.user, action=event, target=app,
                         outcome=AuditEntry.Outcome.FAILURE, reason=str(exc)[:300], **detail)
        raise ValidationError(str(exc)) from exc
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action=event, target=app, **detail)
    return result


def make_folder(*, membership, app, instance, component: str, folder: str, name: str) -> str:
    return _run(AuditEvent.FILES_MKDIR, membership=membership, app=app, instance=instance, component=component,
                path=f"{folder}/{name}"[:300],
                call=lambda: volumes.create_folder(membership, app, instance, component, folder, name))


def rename(*, membership, app, instance, component: str, path: str, new_name: str) -> str:
    return _run(AuditEvent.FILES_RENAME, membership=membership, app=app, instance=instance, component=component,
                path=path[:300], new_name=new_name[:300],
                call=lambda: volumes.rename(membership, app, instance, component, path, new_name))


def delete(*, membership, app, instance, component: str, path: str) -> str:
    return _run(AuditEvent.FILES_DELETE, membership=membership, app=app, instance=instance, component=component,
                path=path[:300], call=lambda: volumes.remove(membership, app, instance, component, path))


def upload_limit_bytes() -> int:
    return settings.OPERATIONS_UPLOAD_MAX_MB * 1024 * 1024


def upload(*, membership, app, instance, component: str, folder: str, uploaded) -> str:
    """Forward a file Django already spooled (to disk above FILE_UPLOAD_MAX_MEMORY_SIZE)."""
    if uploaded is None:
        raise ValidationError("Choose a file to upload.")
    if uploaded.size > upload_limit_bytes():
        raise ValidationError(f"{uploaded.name[:80]} is larger than the panel's upload limit of "
                              f"{settings.OPERATIONS_UPLOAD_MAX_MB} MB (OPERATIONS_UPLOAD_MAX_MB).")

    def forward():
        with uploaded.open("rb") as fileobj:
            return volumes.upload(membership, app, instance, component, folder, uploaded.name, fileobj)

    return _run(AuditEvent.FILES_UPLOAD, membership=membership, app=app, instance=instance, component=component,
                path=f"{folder}/{uploaded.name}"[:300], size=uploaded.size, call=forward)


def download(*, membership, app, instance, component: str, path: str, folder: bool):
    """(temporary file, the name to give it): the caller streams and closes it."""
    sink = _run(AuditEvent.FILES_DOWNLOAD, membership=membership, app=app, instance=instance, component=component,
                path=path[:300], kind="folder" if folder else "file",
                call=lambda: volumes.download(membership, app, instance, component, path, folder=folder))
    return sink, volumes.download_name(path, folder=folder)
