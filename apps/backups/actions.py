"""Start backups, verifications and restores; accept an uploaded archive; delete and download a
stored backup. Each checks the role (refusals audited) and its input (ValidationError in words),
writes its Job and audit row in one transaction and enqueues the job on commit. Params hold ids,
never a credential.

An uploaded archive is verified synchronously (stored, then read back and walked as any backup)
so the person learns at once whether it is a usable tar.gz; a refused one leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.backups.jobs import BACKUP_KIND, RESTORE_KIND, VERIFY_KIND
from apps.backups.models import Backup
from apps.jobs.actions import enqueue
from apps.jobs.models import Job

UPLOAD_SUFFIXES = (".tar.gz", ".tgz")
GZIP_MAGIC = b"\x1f\x8b"
REFUSED_SUFFIXES = (".local", ".localhost", ".internal", ".lan", ".home.arpa")


def _same_team(membership, app) -> None:
    if app.team_id != membership.team_id:
        raise ValidationError("This app belongs to another team.")


def _components_of(app, components) -> list[str]:
    from apps.deployments.sync import component_names

    known = component_names(app.spec or {}) or [""]  # v1–v3: one container, component ""
    chosen = [c for c in dict.fromkeys((c or "").strip() for c in components)]
    if not chosen:
        raise ValidationError("Choose at least one component to back up.")
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise ValidationError(f"{app.name} has no component “{unknown[0]}”.")
    return chosen


def start_backup(*, membership: Membership, app, instance=None, components, kind=Backup.Kind.MANUAL,
                 schedule=None, remove_from_node: bool = True) -> Job:
    require_role_audited(membership, Role.OPERATOR, "backups.actions.start_backup")
    _same_team(membership, app)
    chosen = _components_of(app, components)
    if instance is not None and instance.app_id != app.pk:
        raise ValidationError(f"That instance is not one of {app.name}'s.")
    if instance is None and not app.instances.exists():
        raise ValidationError(f"{app.name} has no known instance (run an app sync first).")
    with transaction.atomic():
        job = Job.objects.create(team=membership.team, kind=BACKUP_KIND, target=f"Backup {app.name}"[:200],
                                 requested_by=membership.user, params={})
        rows = {c: Backup.objects.create(team=membership.team, app=app, component=c, kind=kind, job=job,
                                         schedule=schedule, requested_by=membership.user) for c in chosen}
        job.params = {"app": app.pk, "instance": instance.pk if instance is not None else None,
                      "components": chosen, "backups": {c: r.pk for c, r in rows.items()},
                      "remove_from_node": bool(remove_from_node), "schedule": schedule.pk if schedule else None}
        job.save(update_fields=["params"])
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BACKUP_START, target=app,
                     job=job.pk, components=chosen, kind=str(kind),
                     instance=instance.location if instance is not None else "")
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def start_verify(*, membership: Membership, backup: Backup) -> Job:
    require_role_audited(membership, Role.OPERATOR, "backups.actions.start_verify")
    _same_team(membership, backup.app)
    if backup.status not in (Backup.Status.STORED, Backup.Status.VERIFIED) or not backup.storage_name:
        raise ValidationError("Only a stored backup can be verified.")
    with transaction.atomic():
        job = Job.objects.create(team=membership.team, kind=VERIFY_KIND, requested_by=membership.user,
                                 target=f"Verify backup #{backup.pk} of {backup.app.name}"[:200],
                                 params={"backup": backup.pk})
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BACKUP_VERIFY,
                     target=backup.app, job=job.pk, backup=backup.pk)
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def restore_url(url: str) -> str:
    """A URL FluxOS downloads a remote archive from: https only, no credentials, not a private
    or local host (the node would fetch it from inside its own network)."""
    url = (url or "").strip()
    if len(url) > 2000 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationError("The archive URL is not a plain web address.")
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ValidationError("The archive URL must start with https://.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise ValidationError("The archive URL has no host.")
    if parts.username or parts.password:
        raise ValidationError("The archive URL must not contain a user name or password.")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        from fluxpanel.netguard import refusal_reason

        reason = refusal_reason(address)
        if reason:
            raise ValidationError(f"The archive URL's host {host}: {reason}; use a public address.")
    elif host == "localhost" or host.endswith(REFUSED_SUFFIXES) or "." not in host:
        raise ValidationError(f"The archive URL's host {host} is a local name; use a public address.")
    return url


def start_restore(*, membership: Membership, app, instance, sources: dict, skip_safety: bool = False,
                  confirm_name: str = "") -> Job:
    require_role_audited(membership, Role.OPERATOR, "backups.actions.start_restore")
    _same_team(membership, app)
    if instance is None or instance.app_id != app.pk:
        raise ValidationError(f"Choose an instance of {app.name} to restore.")
    if not sources:
        raise ValidationError("Choose what to restore for at least one component.")
    _components_of(app, list(sources))
    params_sources = {}
    for component, source in sources.items():
        name = component or app.name
        if isinstance(source, Backup):
            if source.app_id != app.pk or source.component != component:
                raise ValidationError(f"Backup #{source.pk} is not a backup of {name}.")
            if source.status != Backup.Status.VERIFIED:
                raise ValidationError(f"Backup #{source.pk} of {name} is not verified: it cannot be restored.")
            params_sources[component] = {"backup": source.pk}
        elif isinstance(source, str):
            params_sources[component] = {"url": restore_url(source)}
        else:
            raise ValidationError(f"Choose a verified backup or an https:// URL for {name}.")
    if skip_safety:
        require_role_audited(membership, Role.MANAGER, "backups.actions.start_restore(skip_safety)")
        if (confirm_name or "").strip() != app.name:
            raise ValidationError(f"Restoring without a safety backup can lose the current data for good: "
                                  f"type the app name “{app.name}” to confirm.")
    action = AuditEvent.BACKUP_RESTORE_UNSAFE if skip_safety else AuditEvent.BACKUP_RESTORE
    with transaction.atomic():
        job = Job.objects.create(team=membership.team, kind=RESTORE_KIND, requested_by=membership.user,
                                 target=f"Restore {app.name}"[:200],
                                 params={"app": app.pk, "instance": instance.pk, "sources": params_sources,
                                         "skip_safety": bool(skip_safety)})
        audit.record(team=membership.team, actor=membership.user, action=action, target=app, job=job.pk,
                     instance=instance.location, sources=[[c, s] for c, s in params_sources.items()])
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def accept_upload(*, membership: Membership, app, component: str, uploaded_file) -> Backup:
    """Store and verify an uploaded archive; ValidationError (and nothing kept) when it is not a
    readable tar.gz."""
    from apps.backups import storage
    from apps.backups.reasons import reason_of
    from apps.backups.verify import verify_stored

    require_role_audited(membership, Role.OPERATOR, "backups.actions.accept_upload")
    _same_team(membership, app)
    component = _components_of(app, [component])[0]
    file_name = str(getattr(uploaded_file, "name", "") or "archive")[:150]
    if not file_name.lower().endswith(UPLOAD_SUFFIXES):
        raise ValidationError("Upload a .tar.gz archive (the format FluxOS backs up and restores).")
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > int(settings.BACKUP_UPLOAD_MAX_MB) * 1024 * 1024:
        raise ValidationError(f"The archive is larger than {settings.BACKUP_UPLOAD_MAX_MB} MB.")
    uploaded_file.seek(0)
    if uploaded_file.read(2) != GZIP_MAGIC:
        raise ValidationError(f"{file_name} is not a gzip archive: it cannot be a .tar.gz backup.")
    uploaded_file.seek(0)
    row = Backup.objects.create(team=membership.team, app=app, component=component, kind=Backup.Kind.UPLOADED,
                                requested_by=membership.user, source=f"upload: {file_name}"[:200])
    digest, counted = hashlib.sha256(), [0]

    def chunks():
        for chunk in uploaded_file.chunks():
            digest.update(chunk)
            counted[0] += len(chunk)
            yield chunk

    try:
        row.storage_name = storage.storage_name_for(row)
        row.storage_label = storage.describe_storage()[:200]
        started = timezone.now()
        row.stored_size = storage.store(row.storage_name, chunks(), context=f"backup:{row.pk}")
        row.size, row.sha256, row.stored_at = counted[0], digest.hexdigest(), timezone.now()
        row.transfer_seconds = (row.stored_at - started).total_seconds()
        begun = timezone.now()
        walk = verify_stored(row.storage_name, context=f"backup:{row.pk}", expected_sha256=row.sha256,
                             expected_size=row.size)
    except Exception as exc:
        if row.storage_name:
            try:
                storage.remove(row.storage_name)
            except Exception:  # noqa: BLE001
                pass
        row.delete()
        raise ValidationError(f"{file_name} was refused: {reason_of(exc)}.") from exc
    row.members, row.member_bytes = walk.members, walk.member_bytes
    row.verified_at = timezone.now()
    row.verify_seconds = (row.verified_at - begun).total_seconds()
    row.status = Backup.Status.VERIFIED
    row.save()
    audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BACKUP_UPLOAD, target=app,
                 backup=row.pk, component=component, file=file_name, size=row.size)
    return row


def delete_backup(*, membership: Membership, backup: Backup) -> str:
    """Remove the archive, keep the row (status removed). Returns the message for the page."""
    from apps.backups import storage

    require_role_audited(membership, Role.MANAGER, "backups.actions.delete_backup")
    _same_team(membership, backup.app)
    if backup.status == Backup.Status.REMOVED:
        raise ValidationError(f"Backup #{backup.pk} was already removed.")
    if backup.status == Backup.Status.RUNNING:
        raise ValidationError(f"Backup #{backup.pk} is still being taken; cancel its job first.")
    newest = (Backup.objects.filter(app=backup.app, component=backup.component, status=Backup.Status.VERIFIED)
              .order_by("-created_at", "-id").first())
    if backup.storage_name:
        storage.remove(backup.storage_name)
    with transaction.atomic():
        backup.status, backup.removed_at = Backup.Status.REMOVED, timezone.now()
        backup.removed_why = f"deleted by {membership.user.username}"[:200]
        backup.save(update_fields=["status", "removed_at", "removed_why"])
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BACKUP_DELETE,
                     target=backup.app, backup=backup.pk, component=backup.component)
    message = f"Backup #{backup.pk} deleted."
    if newest is not None and newest.pk == backup.pk:
        message += " It was the newest verified backup of this component (retention would have kept it)."
    return message


def download_backup(*, membership: Membership, backup: Backup) -> Iterator[bytes]:
    """The plain archive, decrypted on the fly, for a streaming response."""
    from apps.backups import storage

    require_role_audited(membership, Role.OPERATOR, "backups.actions.download_backup")
    _same_team(membership, backup.app)
    if backup.status not in (Backup.Status.STORED, Backup.Status.VERIFIED) or not backup.storage_name:
        raise ValidationError(f"Backup #{backup.pk} is not stored: there is nothing to download.")
    audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BACKUP_DOWNLOAD,
                 target=backup.app, backup=backup.pk, component=backup.component)
    return storage.read_plain(backup.storage_name, context=f"backup:{backup.pk}")
