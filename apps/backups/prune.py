"""The `backup_prune` job: a schedule's retention applied to that schedule's own backups.

Per component of the schedule, its backups that are verified, stored or failed (never one still
running, never one of another schedule or taken by hand) go through `retention.keep`; each of the
others has its archive removed from the backup storage and its row marked removed ("pruned by
retention"), the row kept for history. A storage that refuses one removal leaves that row as it
was (the next prune tries again) and the job fails saying how many. The run leaves one audit row
(`backups.prune`) with the ids, count and bytes removed. `start_prune` is called by the backup
job after a scheduled backup succeeded.
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.backups import retention
from apps.backups.models import Backup, BackupSchedule
from apps.jobs.kinds import job_kind
from apps.jobs.models import Job

JOB_KIND = "backup_prune"
PRUNED_WHY = "pruned by retention"
PRUNABLE = (Backup.Status.VERIFIED, Backup.Status.STORED, Backup.Status.FAILED)


class PruneFailed(Exception):
    """Some archives could not be removed; the message says how many (the job's error)."""


def start_prune(schedule: BackupSchedule, *, membership: Membership | None = None) -> Job:
    """A queued prune job of `schedule`, enqueued on commit. Without a membership (after a scheduled
    backup) it is requested by the member the schedule runs as."""
    from apps.jobs.actions import enqueue

    if membership is not None:
        require_role_audited(membership, Role.OPERATOR, "backups.prune.start_prune")
    user = membership.user if membership is not None else schedule.created_by
    with transaction.atomic():
        job = Job.objects.create(team_id=schedule.team_id, kind=JOB_KIND, target=f"Prune backups of {schedule.app.name}"[:200],
                                 params={"schedule": schedule.pk}, requested_by=user)
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def prune_plan(schedule: BackupSchedule, now) -> list[Backup]:
    """The schedule's backups its retention lets go, oldest first."""
    doomed = []
    for component in schedule.components or [""]:
        rows = list(Backup.objects.filter(schedule=schedule, app_id=schedule.app_id, component=component,
                                          status__in=PRUNABLE).order_by("created_at", "id"))
        kept = retention.keep(((b.pk, b.created_at, b.status == Backup.Status.VERIFIED) for b in rows), schedule, now)
        doomed += [b for b in rows if b.pk not in kept]
    return sorted(doomed, key=lambda b: (b.created_at, b.pk))


@job_kind(JOB_KIND, label="Prune backups", role=Role.OPERATOR)
def run_prune(ctx, schedule: int):
    from apps.backups import storage

    row = BackupSchedule.objects.select_related("app", "team").filter(pk=schedule).first()
    if row is None:
        ctx.log("The schedule no longer exists: nothing to prune.")
        return
    doomed = prune_plan(row, timezone.now())
    ctx.log(f"Retention of the {row.get_frequency_display().lower()} backups of {row.app.name}: "
            f"keep last {row.keep_last}, daily {row.keep_daily}, weekly {row.keep_weekly}, monthly {row.keep_monthly}; "
            f"{len(doomed)} backup(s) to remove.", progress=5)
    removed: list[Backup] = []
    failed: list[tuple[Backup, str]] = []
    for number, backup in enumerate(doomed, start=1):
        ctx.check_cancelled()
        label = f"#{backup.pk} ({backup.component or 'the app'}, {backup.created_at:%Y-%m-%d %H:%M %Z}, {backup.status})"
        try:
            if backup.storage_name:
                storage.remove(backup.storage_name)
        except storage.StorageFailed as exc:
            failed.append((backup, str(exc)))
            ctx.log(f"{label}: not removed: {exc}")
            continue
        # Conditional: a member who deleted or re-verified it meanwhile wins.
        changed = Backup.objects.filter(pk=backup.pk, status=backup.status).update(
            status=Backup.Status.REMOVED, removed_at=timezone.now(), removed_why=PRUNED_WHY)
        if changed:
            removed.append(backup)
            ctx.log(f"{label}: removed.", progress=5 + 90 * number // max(1, len(doomed)))
    freed = sum(b.stored_size or 0 for b in removed)
    audit.record(team=row.team, actor=ctx.job.requested_by, action=AuditEvent.BACKUP_PRUNE, target=row.app,
                 job=ctx.job.pk, schedule=row.pk, removed=[b.pk for b in removed], count=len(removed),
                 bytes=freed, failed=[b.pk for b, _ in failed])
    ctx.log(f"Removed {len(removed)} backup(s), {freed:,} bytes of storage.")
    if failed:
        raise PruneFailed(f"{len(failed)} of {len(doomed)} archive(s) could not be removed from the storage "
                          f"(first: {failed[0][1]}); their rows are kept and the next prune tries again.")
