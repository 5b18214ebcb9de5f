"""The payment watcher: a job that follows the network until a submitted app message is in force.

The panel never pays. Once FluxOS accepted the signed message (the submit job stored its hash and
moved the draft to `awaiting_payment`), `start_watch` starts a job of kind `app_payment_watch`.
Every `BUILDER_PAYMENT_POLL_SECONDS` it asks one of the team's sources (`team_sources`) for the
app's spec in force (`/apps/appspecifications/<name>`) and, once that spec carries this message's
hash, its permanent message (`/apps/permanentmessages?appname=`) for the payment's height and txid:

- the spec with this hash in force → the draft is `live` (live_at, a DraftEvent, an audit row), a
  new app is added to the team's apps when its owner is not watched, and the team's apps are synced
  so the app appears in the Apps list with its new expiry;
- the temporary message's hour (FluxOS's `tempMsgTtlS`, counted from the submission) ends unpaid
  → the draft `failed` with the reason; a warning line when under 15 minutes remain.

Every answer is an untrusted peer's: bounded in size and time, validated (a dict, the app's name,
a 64-hex hash); a node that hangs, errs or lies costs its own bounds and the next source is asked.
The first source asked turns round from poll to poll, so one node that keeps saying "not yet" does
not hide the payment for ever.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent, Outcome
from apps.accounts.models import Membership, Role
from apps.builder.models import AppDraft, DraftEvent
from apps.jobs.kinds import job_kind
from apps.jobs.models import Job

KIND = "app_payment_watch"
TEMPORARY_TTL = timedelta(seconds=3600)  # FluxOS tempMsgTtlS: the hour to pay in
WARN_BEFORE = timedelta(minutes=15)
SPEC_MAX_BYTES = 512 * 1024  # one app's spec: a few kB, FluxOS caps it well below this
HASH = re.compile(r"[0-9a-f]{64}")
MAX_HEIGHT = 100_000_000
NOT_FOUND = ("application not found", "not found", "does not exist")


def poll_seconds() -> float:
    return float(settings.BUILDER_PAYMENT_POLL_SECONDS)


def payment_deadline(draft: AppDraft):
    """When the temporary message's hour ends (None when the draft was never submitted)."""
    start = draft.submitted_at or (draft.watch_job.created_at if draft.watch_job_id else None)
    return start + TEMPORARY_TTL if start else None


def start_watch(*, draft: AppDraft, actor) -> Job:
    """Start the watcher of `draft` (awaiting payment): a queued job, enqueued on commit, with its
    audit row. `actor` is who submitted (None for the system); a member must be an operator. A
    watcher of the draft that is still queued or running is returned as it is (no second one)."""
    membership = None
    if getattr(actor, "pk", None):
        membership = Membership.objects.filter(team_id=draft.team_id, user=actor).select_related("team").first()
    if membership is not None:
        require_role_audited(membership, Role.OPERATOR, "builder.watch.start_watch")
    from apps.jobs.actions import enqueue

    with transaction.atomic():
        current = AppDraft.objects.select_for_update().only("watch_job").get(pk=draft.pk)
        running = Job.objects.filter(pk=current.watch_job_id).exclude(status__in=Job.FINISHED).first()
        if running is not None:
            draft.watch_job = running
            return running
        job = Job.objects.create(team_id=draft.team_id, kind=KIND, target=(draft.name or "")[:200],
                                 params={"draft": draft.pk}, requested_by=membership.user if membership else None)
        AppDraft.objects.filter(pk=draft.pk).update(watch_job=job)
        draft.watch_job = job
        audit.record(team=draft.team, actor=actor, action=AuditEvent.JOB_START, target=job, kind=KIND,
                     draft=draft.pk, hash=draft.message_hash)
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


@dataclass
class Seen:
    """What one poll learnt: `live` with the height, or not yet; `source` answered it."""

    live: bool
    source: str
    height: int | None = None
    txid: str = ""
    detail: str = ""


class NoAnswer(Exception):
    """A source gave no usable answer (unreachable, hung, an error, or an answer that fails the
    checks); its reason is the message."""


def _int_in(value, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or not low <= value <= high or int(value) != value:
        return None
    return int(value)


def ask(source, name: str, message_hash: str) -> Seen:
    """One source's word on whether the spec with `message_hash` is in force for app `name`."""
    from fluxpanel.fluxos.client import FluxClientError, FluxError

    read = float(settings.BUILDER_PAYMENT_NODE_TIMEOUT_S)
    client = source.client(timeout=(min(3.05, read), read), deadline_s=read * 1.5, max_body=SPEC_MAX_BYTES)
    try:
        spec = client.app_spec(name)
    except FluxError as exc:
        if any(text in exc.message.lower() for text in NOT_FOUND):
            return Seen(live=False, source=source.label, detail="the app is not registered yet")
        raise NoAnswer(f"{source.label}: {exc.message[:200]}") from exc
    except FluxClientError as exc:
        raise NoAnswer(f"{source.label}: {exc.message[:200]}") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise NoAnswer(f"{source.label}: its answer is not an app specification")
    if spec["name"].lower() != name.lower():
        raise NoAnswer(f"{source.label}: it answered the spec of another app")
    in_force = spec.get("hash")
    if not isinstance(in_force, str) or not HASH.fullmatch(in_force):
        raise NoAnswer(f"{source.label}: the spec it answered has no valid hash")
    height = _int_in(spec.get("height"), 0, MAX_HEIGHT)
    if in_force != message_hash:
        return Seen(live=False, source=source.label, detail="another message of the app is in force")
    if height is None:
        raise NoAnswer(f"{source.label}: the spec with this hash has no valid height")
    seen = Seen(live=True, source=source.label, height=height)
    try:
        messages = client.app_permanent_messages(name)
    except FluxClientError:
        return seen  # the spec in force is what counts; the txid is only for the log
    if isinstance(messages, list):
        for record in messages[-500:]:
            if isinstance(record, dict) and record.get("hash") == message_hash:
                txid = record.get("txid")
                seen.txid = txid if isinstance(txid, str) and HASH.fullmatch(txid) else ""
    return seen


def look(sources: list, name: str, message_hash: str, turn: int) -> tuple[Seen | None, list[str]]:
    """Ask the sources, starting at `turn`, until one gives a valid answer."""
    reasons: list[str] = []
    for offset in range(len(sources)):
        source = sources[(turn + offset) % len(sources)]
        try:
            return ask(source, name, message_hash), reasons
        except NoAnswer as exc:
            reasons.append(str(exc))
    return None, reasons


def _minutes(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    return f"{seconds // 60} min {seconds % 60:02d} s"


@job_kind(KIND, label="Watch an app's payment", role=Role.OPERATOR)
def watch_payment(ctx, draft: int):
    from apps.deployments.sources import team_sources

    draft = AppDraft.objects.select_related("team", "watch_job").get(pk=draft, team_id=ctx.job.team_id)
    name = (draft.message_spec or {}).get("name") if isinstance(draft.message_spec, dict) else None
    name = name or draft.name
    if not draft.message_hash or not HASH.fullmatch(draft.message_hash) or not name:
        raise RuntimeError("the draft has no submitted message to watch")
    deadline = payment_deadline(draft) or timezone.now() + TEMPORARY_TTL
    ctx.log(f"Watching the network for {name}'s message {draft.message_hash} "
            f"(pay before {deadline:%Y-%m-%d %H:%M:%S} UTC).", progress=1)
    warned = False
    turn = 0
    last = ""
    last_reasons: list[str] = []
    progress = 1
    while True:
        # A progress write also tells whether a cancel was asked meanwhile.
        ctx.progress(progress)
        current = AppDraft.objects.filter(pk=draft.pk).values_list("status", flat=True).first()
        if current != AppDraft.Status.AWAITING_PAYMENT:
            ctx.log(f"The draft is {current} now: nothing more to watch.")
            return
        sources = team_sources(draft.team)
        seen, reasons = look(sources, name, draft.message_hash, turn) if sources else (None, [])
        turn += 1
        if reasons != last_reasons:  # a node that stays broken is said once, not every poll
            for reason in reasons:
                ctx.log(f"No usable answer from {reason}; trying another source.")
            last_reasons = reasons
        if seen is not None and seen.live:
            ctx.log(f"{seen.source}: the spec with this hash is in force since block {seen.height}"
                    + (f" (payment {seen.txid})." if seen.txid else "."), progress=90)
            go_live(ctx, draft, seen)
            return
        now = timezone.now()
        left = deadline - now
        if left <= timedelta(0):
            reason = (f"Not paid within the temporary message's hour (it ended {deadline:%Y-%m-%d %H:%M} UTC): "
                      "FluxOS dropped the message. Sign and submit it again to pay.")
            fail(draft, reason, ctx.job)
            ctx.log(reason)
            return
        if not warned and left <= WARN_BEFORE:
            warned = True
            ctx.log(f"Warning: {_minutes(left)} left to pay before FluxOS drops the message.")
        line = ("No source answered." if seen is None and sources else
                "No source to ask: register a confirmed node or set a gateway URL." if not sources else
                f"{seen.source}: not in force yet ({seen.detail}).")
        if line != last:
            ctx.log(f"{line} {_minutes(left)} left to pay.")
            last = line
        progress = min(89, 1 + int((TEMPORARY_TTL - left) / TEMPORARY_TTL * 88))
        time.sleep(max(0.05, min(poll_seconds(), left.total_seconds())))


def go_live(ctx, draft: AppDraft, seen: Seen) -> None:
    from apps.deployments.models import AppStatus, TeamApp
    from apps.deployments.owners import owner_key, team_owner_addresses

    now = timezone.now()
    name = (draft.message_spec or {}).get("name") or draft.name
    owner = (draft.message_spec or {}).get("owner") or (draft.spec or {}).get("owner") or ""
    with transaction.atomic():
        if not AppDraft.objects.filter(pk=draft.pk, status=AppDraft.Status.AWAITING_PAYMENT).update(
                status=AppDraft.Status.LIVE, live_at=now, updated_at=now, reason=""):
            return
        draft.status = AppDraft.Status.LIVE
        app = TeamApp.objects.filter(team_id=draft.team_id, name_key=name.lower()).first()
        owners = {owner_key(address) for address in team_owner_addresses(draft.team)}
        if app is None and owner_key(owner) not in owners:
            # Nobody watches the owner: add the app by name so the sync keeps it in the list.
            app = TeamApp.objects.create(team_id=draft.team_id, name=name, origin=TeamApp.Origin.ADDED,
                                         status=AppStatus.UNKNOWN)
        DraftEvent.objects.create(draft=draft, actor=None, status=draft.status,
                                  text=f"Live: paid, in force since block {seen.height} ({seen.source})"[:500])
        audit.record(team=draft.team, actor=ctx.job.requested_by, action=AuditEvent.BUILDER_PAYMENT,
                     target=draft, hash=draft.message_hash, height=seen.height, txid=seen.txid,
                     source=seen.source[:200])
    ctx.log("The draft is live. Syncing the team's apps…", progress=95)
    sync_apps(ctx, draft.team_id)
    if draft.app_id is None:  # a new app: its row exists once added or synced
        app = TeamApp.objects.filter(team_id=draft.team_id, name_key=name.lower()).first()
        if app is not None:
            AppDraft.objects.filter(pk=draft.pk, app__isnull=True).update(app=app)


def sync_apps(ctx, team_id: int) -> None:
    """Sync now (this job already runs in a worker); when a sync is running, queue one after it."""
    from apps.deployments.sync import run_app_sync
    from apps.deployments.tasks import sync_team_task

    sync = run_app_sync(team_id)
    if sync is None:
        transaction.on_commit(lambda: sync_team_task.delay(team_id))
        ctx.log("Another app sync is running: a new one is queued.")
        return
    ctx.log(f"App sync {sync.status}" + (f": {sync.reason}" if sync.reason else "."))


def fail(draft: AppDraft, reason: str, job: Job) -> None:
    now = timezone.now()
    with transaction.atomic():
        if not AppDraft.objects.filter(pk=draft.pk, status=AppDraft.Status.AWAITING_PAYMENT).update(
                status=AppDraft.Status.FAILED, reason=reason[:500], updated_at=now):
            return
        draft.status = AppDraft.Status.FAILED
        DraftEvent.objects.create(draft=draft, actor=None, status=draft.status, text=reason[:500])
        audit.record(team=draft.team, actor=job.requested_by, action=AuditEvent.BUILDER_PAYMENT,
                     target=draft, outcome=Outcome.FAILURE, hash=draft.message_hash, reason=reason[:300])
