"""The job kinds of backups: `app_backup` (FluxOS's backup task on one instance, then each
component's archive node → storage, verified), `backup_verify` (a stored backup read back again)
and `app_restore` (acquire before destroy: a verified safety backup first, then upload and
FluxOS's restore task, then a check that the components run). apps.backups.actions starts them.

- A row is "verified" only after verify_stored walked the stored copy; any failure marks the
  row failed with a human reason (apps.backups.reasons), removes its partial archive and alerts.
- A body that dies unexpectedly still ends its running rows (try/finally); a worker killed
  outright leaves them to `reap_orphans` (beat, backups.reap_orphans).
- Authorisation is looked up when the job runs (the params hold none): the owner's app-owner
  authorisation, else the team's session on the instance's node.
"""
from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import Role
from apps.backups.models import Backup
from apps.backups.reasons import reason_of, shorten
from apps.backups.transfer import Progress, node_to_storage, size_text, storage_to_node
from apps.jobs.kinds import job_kind
from apps.operations import operations as ops

BACKUP_KIND = "app_backup"
RESTORE_KIND = "app_restore"
VERIFY_KIND = "backup_verify"
# FluxOS's task failures written as plain lines inside the stream (reference §8.2).
BACKUP_FAILURES = ("Backup in progress", "No backup jobs", "appname and backup parameters")
RESTORE_FAILURES = ("Restore for app", "No restore jobs", "appname, restore and type parameters", "Error:")
NOT_FOUND_SUFFIX = " not found"
WORKER_STOPPED = "the worker stopped during the backup"
NO_AUTH = ("no valid authorisation: no app-owner authorisation by the owner and no session on this node "
           "(Wallet page, app-owner authorisation)")


def _cancelled(exc) -> bool:
    from apps.jobs.runner import JobCancelled

    return isinstance(exc, JobCancelled)


def _task_timeout():
    return (ops.CALL_TIMEOUT[0], float(settings.BACKUP_TASK_TIMEOUT_S))


def _node_client(instance, auth):
    from fluxpanel.fluxos.client.streams import StreamBounds

    longest = max(float(settings.BACKUP_TASK_TIMEOUT_S), float(settings.BACKUP_TRANSFER_MAX_S)) + 60
    client = ops.client_for(instance, auth, timeout=_task_timeout(), deadline_s=longest)
    # A task's lines: small, but FluxOS may be silent for long while it tars a volume.
    client.stream_bounds = StreamBounds(max_bytes=4 * 1024 * 1024, max_seconds=longest,
                                        stall_s=float(settings.BACKUP_TASK_TIMEOUT_S))
    return client


def _run_task(ctx, stream, label: str, failures: tuple[str, ...]) -> None:
    """Log a FluxOS task's lines; OperationFailed on one of its failure lines (the stream also
    raises FluxError when the task does not end with its final line)."""
    with stream:
        for line in stream:
            text = shorten(line, 300)
            ctx.log(f"{label}: {text}")
            if text.startswith(failures) or (text.startswith("Component ") and text.endswith(NOT_FOUND_SUFFIX)):
                raise ops.OperationFailed(f"FluxOS: {text}")


def _fail_row(backup: Backup, reason: str, *, remove_archive: bool = True, alert: bool = True) -> None:
    from apps.backups import storage

    if remove_archive and backup.storage_name:
        try:
            storage.remove(backup.storage_name)
        except Exception:  # noqa: BLE001 - the row's failure matters more than a leftover file
            pass
    backup.status, backup.failure = Backup.Status.FAILED, shorten(reason)
    backup.save(update_fields=["status", "failure"])
    if alert:
        from apps.backups.alerts import backup_problem

        what = f"component {backup.component}" if backup.component else "the app"
        backup_problem(backup.app, f"Backup #{backup.pk} of {what} failed: {backup.failure}")


def _first_running_instance(team_app, instances):
    for instance in instances:
        try:
            if ops.runs(ops.client_for(instance, None, timeout=ops.POLL_TIMEOUT), team_app, None):
                return instance
        except Exception:  # noqa: BLE001 - a node that does not answer is not the one to use
            continue
    return None


def _pick_instance(team_app, instance_id):
    from apps.deployments.models import AppInstance

    rows = AppInstance.objects.filter(app=team_app).select_related("node").order_by("location")
    if instance_id:
        instance = rows.filter(pk=instance_id).first()
        if instance is None:
            raise ops.OperationFailed(f"The instance to back up is no longer one of {team_app.name}'s.")
        return instance
    instance = _first_running_instance(team_app, list(rows))
    if instance is None:
        raise ops.OperationFailed(f"No instance of {team_app.name} runs now: nothing to back up from.")
    return instance


def take_backups(ctx, membership, team_app, instance, rows: list[Backup], *, remove_from_node: bool) -> dict:
    """The backup procedure on `instance` for `rows` (one running Backup per component): FluxOS's
    task, then per component download → store → verify (→ remove from node). Returns
    {component: "verified …" | "failed: …"}; every row ends verified or failed."""
    from apps.backups import storage
    from apps.backups.verify import verify_stored
    from fluxpanel.fluxos.client.backups import local_archive_path

    label = ops.instance_label(instance)
    outcome: dict[str, str] = {}
    components = [row.component for row in rows]
    source = f"{instance.node.name} ({instance.location})" if instance.node_id else instance.location
    Backup.objects.filter(pk__in=[r.pk for r in rows]).update(node=instance.node, source=source[:200])
    for row in rows:
        row.node, row.source = instance.node, source[:200]

    def record():
        ctx.set_outcome((r.component or team_app.name, outcome.get(r.component, "in progress")) for r in rows)

    try:
        problem = ops.wait_unblocked(ctx, label, instance.node)
        if problem:
            raise ops.OperationFailed(problem)
        auth = ops.zelidauth_for_instance(membership, team_app, instance, ops.owner_auth(membership, team_app))
        if auth is None:
            raise ops.OperationFailed(NO_AUTH)
        client = _node_client(instance, auth)
        ctx.log(f"{label}: FluxOS backs up {', '.join(c or team_app.name for c in components)} "
                "(the app stops meanwhile)…")
        try:
            _run_task(ctx, client.start_backup(team_app.name, components, timeout=_task_timeout()), label,
                      BACKUP_FAILURES)
        except Exception as exc:
            if _cancelled(exc):
                raise
            raise ops.OperationFailed(f"FluxOS's backup task failed: {reason_of(exc)}") from exc
        for row in rows:
            ctx.check_cancelled()  # between components
            outcome[row.component] = _one_component(ctx, client, team_app, row, label, remove_from_node,
                                                    storage, verify_stored, local_archive_path)
            record()
    except Exception as exc:
        reason = "cancelled on request" if _cancelled(exc) else reason_of(exc)
        for row in rows:
            row.refresh_from_db(fields=["status"])
            if row.status == Backup.Status.RUNNING or row.status == Backup.Status.STORED:
                _fail_row(row, reason, alert=not _cancelled(exc))
                outcome[row.component] = f"failed: {row.failure}"
        record()
        if _cancelled(exc):
            raise
    finally:
        # Whatever ended this body, no row stays "in progress" or half done.
        for row in rows:
            row.refresh_from_db(fields=["status"])
            if row.status in (Backup.Status.RUNNING, Backup.Status.STORED):
                _fail_row(row, "the backup job stopped unexpectedly")
                outcome[row.component] = f"failed: {row.failure}"
    return outcome


def _one_component(ctx, client, team_app, row, label, remove_from_node, storage, verify_stored,
                   local_archive_path) -> str:
    name = row.component or team_app.name
    context = f"backup:{row.pk}"
    step = ""  # names the transfer in a node error ("cut off during the download")
    try:
        info = client.volume_info(team_app.name, row.component)
        mount = info.get("mount") if isinstance(info, dict) else None
        if not isinstance(mount, str) or not mount.startswith("/") or ".." in mount.split("/") or len(mount) > 500:
            raise ops.OperationFailed("the node did not give a usable volume mount")
        archive = local_archive_path(mount, row.component)
        row.storage_name = storage.storage_name_for(row)
        row.storage_label = storage.describe_storage()[:200]
        row.save(update_fields=["storage_name", "storage_label"])
        ctx.log(f"{label}: downloading the archive of {name} into the backup storage…")
        progress = Progress(f"{name}", lambda text, pct: ctx.log(f"{label}: {text}"))
        step = "the download"
        done = node_to_storage(client, team_app.name, archive, storage_name=row.storage_name, context=context,
                               progress=progress)
        row.size, row.sha256, row.stored_size = done.size, done.sha256, done.stored_size
        row.transfer_seconds, row.stored_at = done.seconds, timezone.now()
        row.status = Backup.Status.STORED
        row.save(update_fields=["size", "sha256", "stored_size", "transfer_seconds", "stored_at", "status"])
        ctx.log(f"{label}: {name} stored ({size_text(done.size)} in {done.seconds:.1f} s, sha256 "
                f"{done.sha256[:16]}…); verifying…")
        step = ""
        ctx.check_cancelled()
        started = time.monotonic()
        walk = verify_stored(row.storage_name, context=context, expected_sha256=row.sha256,
                             expected_size=row.size)
        row.members, row.member_bytes = walk.members, walk.member_bytes
        row.verified_at, row.verify_seconds = timezone.now(), time.monotonic() - started
        row.status = Backup.Status.VERIFIED
        row.save(update_fields=["members", "member_bytes", "verified_at", "verify_seconds", "status"])
        ctx.log(f"{label}: {name} verified ({walk.members} members, {size_text(walk.member_bytes)}).")
    except Exception as exc:
        if _cancelled(exc):
            raise
        reason = reason_of(exc, during=step)
        _fail_row(row, reason)
        ctx.log(f"{label}: {name} FAILED — {row.failure}")
        return f"failed: {row.failure}"
    if remove_from_node:
        try:
            client.remove_backup_file(archive, team_app.name)
            row.removed_from_node = True
            row.save(update_fields=["removed_from_node"])
            ctx.log(f"{label}: the node's archive of {name} was removed.")
        except Exception as exc:  # noqa: BLE001 - the backup is safe; FluxOS deletes it after 24 h anyway
            if _cancelled(exc):
                raise
            ctx.log(f"{label}: could not remove the node's archive of {name}: {reason_of(exc)}")
    return f"verified ({size_text(row.size)}, {row.members} members)"


@job_kind(BACKUP_KIND, label="App backup", role=Role.OPERATOR)
def run_backup(ctx, app: int, components=(), backups=None, instance=None, remove_from_node: bool = True,
               schedule=None):
    rows = list(Backup.objects.filter(pk__in=list((backups or {}).values()), status=Backup.Status.RUNNING)
                .order_by("id"))
    try:
        membership, team_app = ops.member_and_app(ctx.job, app, "this backup")
        picked = _pick_instance(team_app, instance)
    except Exception as exc:
        for row in rows:
            _fail_row(row, reason_of(exc), remove_archive=False, alert=not _cancelled(exc))
        raise
    ctx.log(f"Backup of {team_app.name} on {ops.instance_label(picked)}: "
            f"{len(rows)} component(s).", progress=2)
    outcome = take_backups(ctx, membership, team_app, picked, rows, remove_from_node=remove_from_node)
    _final_outcome(ctx, rows, team_app, outcome)
    failed = [r.component or team_app.name for r in rows if not outcome.get(r.component, "").startswith("verified")]
    if failed:
        first = next(t for t in outcome.values() if not t.startswith("verified"))
        raise ops.OperationFailed(f"Backup of {team_app.name} failed for {', '.join(failed)}: "
                                  + first.removeprefix("failed: "))
    from apps.backups.alerts import backup_ok

    backup_ok(team_app)
    if schedule:
        from apps.backups.models import BackupSchedule
        from apps.backups.prune import start_prune

        found = BackupSchedule.objects.filter(pk=schedule, app=team_app).first()
        if found is not None:
            prune = start_prune(found, membership=membership)
            ctx.log(f"Retention: pruning started as job #{prune.pk}.")
    ctx.log(f"Backup of {team_app.name}: {len(rows)} component(s) verified.", progress=100)


def _final_outcome(ctx, rows, team_app, outcome):
    ctx.set_outcome((r.component or team_app.name, outcome.get(r.component, "not reached")) for r in rows)


@job_kind(VERIFY_KIND, label="Backup verification", role=Role.OPERATOR)
def run_verify(ctx, backup: int):
    from apps.backups.verify import verify_stored

    row = Backup.objects.filter(pk=backup, team_id=ctx.job.team_id).select_related("app").first()
    if row is None or not row.storage_name or row.status not in (Backup.Status.STORED, Backup.Status.VERIFIED):
        raise ops.OperationFailed("This backup is no longer stored: nothing to verify.")
    ctx.log(f"Reading {row} back from the backup storage…", progress=5)
    started = time.monotonic()
    try:
        walk = verify_stored(row.storage_name, context=f"backup:{row.pk}", expected_sha256=row.sha256,
                             expected_size=row.size)
    except Exception as exc:
        if _cancelled(exc):
            raise
        # The archive stays: a manager decides whether to delete it; the row says it is not restorable.
        _fail_row(row, f"verification failed: {reason_of(exc)}", remove_archive=False)
        ctx.set_outcome([(row.component or row.app.name, f"failed: {row.failure}")])
        raise ops.OperationFailed(f"Verification of {row} failed: {row.failure}") from exc
    row.members, row.member_bytes = walk.members, walk.member_bytes
    row.verified_at, row.verify_seconds = timezone.now(), time.monotonic() - started
    row.status, row.failure = Backup.Status.VERIFIED, ""
    row.save(update_fields=["members", "member_bytes", "verified_at", "verify_seconds", "status", "failure"])
    ctx.set_outcome([(row.component or row.app.name, "verified")])
    ctx.log(f"{row} verified: {walk.members} members, {size_text(walk.member_bytes)}.", progress=100)


@job_kind(RESTORE_KIND, label="App restore", role=Role.OPERATOR)
def run_restore(ctx, app: int, instance: int, sources=None, skip_safety: bool = False):
    from apps.deployments.models import AppInstance

    membership, team_app = ops.member_and_app(ctx.job, app, "this restore")
    target = AppInstance.objects.filter(app=team_app, pk=instance).select_related("node").first()
    if target is None:
        raise ops.OperationFailed(f"The instance to restore is no longer one of {team_app.name}'s.")
    sources = dict(sources or {})
    components = list(sources)
    label = ops.instance_label(target)
    outcome = dict.fromkeys(components, "not reached")

    def record():
        ctx.set_outcome((c or team_app.name, outcome[c]) for c in components)

    record()
    stored = {}
    for component, source in sources.items():
        if "backup" in source:
            row = Backup.objects.filter(pk=source["backup"], app=team_app, component=component,
                                        status=Backup.Status.VERIFIED).first()
            if row is None:
                raise ops.OperationFailed(f"The backup chosen for {component or team_app.name} is no longer a "
                                          "verified backup of it; nothing on the node was changed.")
            stored[component] = row
    ctx.log(f"Restore of {team_app.name} on {label}: {len(components)} component(s).", progress=2)
    if skip_safety:
        ctx.log("No safety backup: skipped by a manager (audited).")
    else:
        _safety_backup(ctx, membership, team_app, target, components, outcome, record)
    problem = ops.wait_unblocked(ctx, label, target.node)
    if problem:
        raise ops.OperationFailed(f"Restore of {team_app.name}: {problem}")
    auth = ops.zelidauth_for_instance(membership, team_app, target, ops.owner_auth(membership, team_app))
    if auth is None:
        raise ops.OperationFailed(f"Restore of {team_app.name}: {NO_AUTH}")
    client = _node_client(target, auth)
    try:
        for index, (component, row) in enumerate(stored.items()):
            ctx.check_cancelled()
            name = component or team_app.name
            ctx.log(f"{label}: uploading backup #{row.pk} of {name} ({size_text(row.size)})…")
            share = 60 // max(len(stored), 1)

            def report(text, percent, index=index, share=share):
                ctx.log(f"{label}: {text}", progress=30 + index * share + (percent or 0) * share // 100)

            received = storage_to_node(client, team_app.name, component, row, progress=Progress(f"upload of {name}", report))
            ctx.log(f"{label}: the node confirmed {size_text(received)} of {name}.")
            outcome[component] = "uploaded"
            record()
        ctx.check_cancelled()
        if stored:
            ctx.log(f"{label}: FluxOS restores {', '.join(c or team_app.name for c in stored)}…", progress=90)
            _run_task(ctx, client.start_restore(team_app.name, list(stored), source="upload",
                                                timeout=_task_timeout()), label, RESTORE_FAILURES)
        urls = {c: s["url"] for c, s in sources.items() if "url" in s}
        if urls:
            ctx.log(f"{label}: FluxOS downloads and restores {', '.join(c or team_app.name for c in urls)}…")
            _run_task(ctx, client.start_restore(team_app.name, list(urls), source="remote", urls=urls,
                                                timeout=_task_timeout()), label, RESTORE_FAILURES)
    except Exception as exc:
        if _cancelled(exc):
            raise
        for component in components:
            if outcome[component] != "restored":
                outcome[component] = f"failed: {reason_of(exc)}"
        record()
        raise ops.OperationFailed(f"Restore of {team_app.name} failed: {reason_of(exc)}") from exc
    until = time.monotonic() + float(settings.OPERATIONS_RUN_TIMEOUT_S)
    failed = []
    for component in components:
        problem = ops.wait_running(target, team_app, component or None, until,
                                   every=float(settings.OPERATIONS_RUN_POLL_S), check=ctx.check_cancelled)
        outcome[component] = f"restored, but {problem}" if problem else "restored, running"
        if problem:
            failed.append(component or team_app.name)
    record()
    if failed:
        raise ops.OperationFailed(f"Restore of {team_app.name}: restored, but {', '.join(failed)} did not run "
                                  "again in time.")
    ctx.log(f"Restore of {team_app.name}: done, {len(components)} component(s) running.", progress=100)


def _safety_backup(ctx, membership, team_app, target, components, outcome, record) -> None:
    """Acquire before destroy: a verified backup of the current state, else OperationFailed before
    anything reaches the node."""
    rows = [Backup.objects.create(team=team_app.team, app=team_app, component=c, kind=Backup.Kind.SAFETY,
                                  job=ctx.job, requested_by=ctx.job.requested_by) for c in components]
    ctx.log(f"Safety backup of {', '.join(c or team_app.name for c in components)} first…", progress=5)
    result = take_backups(ctx, membership, team_app, target, rows, remove_from_node=True)
    bad = {c: t for c, t in result.items() if not t.startswith("verified")}
    missing = [c for c in components if c not in result]
    if bad or missing:
        first = next(iter(bad.values()), "failed: not taken").removeprefix("failed: ")
        text = f"Safety backup failed: {first}; nothing on the node was changed"
        for component in components:
            outcome[component] = f"not restored: {text}"
        record()
        from apps.backups.alerts import backup_problem

        backup_problem(team_app, f"Restore of {team_app.name} stopped: {text}.")
        raise ops.OperationFailed(text + ".")
    ctx.log("Safety backup verified: " + ", ".join(f"#{r.pk}" for r in rows) + ".", progress=25)


def reap_orphans() -> int:
    """Backups still running whose job ended (its worker was killed): failed, partial removed."""
    from apps.jobs.models import Job

    orphans = list(Backup.objects.filter(status__in=[Backup.Status.RUNNING, Backup.Status.STORED])
                   .filter(job__status__in=Job.FINISHED).select_related("app"))
    orphans += list(Backup.objects.filter(status=Backup.Status.RUNNING, job__isnull=True,
                                          created_at__lt=timezone.now() - timedelta(days=1))
                    .select_related("app"))
    for row in orphans:
        _fail_row(row, WORKER_STOPPED)
    return len(orphans)
