"""FluxOS's test install of a new app before paying: `app_test_install` jobs.

Once FluxOS accepted a register message (the draft is awaiting payment with its hash), a node can
install the app from that temporary message with minimal resources and remove it again
(`/apps/testappinstall/<hash>`, appInstaller.testAppInstall: any user-level zelidauth), streaming
what it does. The owner sees the image pull and the containers start before paying for it.

- `node_choices(draft)`: where it may run: the team's nodes that answered recently, and the node
  the message was submitted to.
- `start_test_install(membership=, draft=, node_id=)`: the action (operator, audited): one running
  test install per draft, a new app only; the job is enqueued on commit.
- The job takes the zelidauth the submit job would use on that node (apps.builder.jobs.targets:
  the signer's app-owner authorisation, else the team's session on it), writes every chunk as an
  output line as it arrives (Docker's pull progress thinned to one line per layer and step), and
  succeeds when FluxOS says the test install finished; FluxOS's error text fails it otherwise.
  The stream is bounded in size, duration and silence (settings BUILDER_TEST_INSTALL_*).
"""
from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import member_for_task
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.builder.actions import event, require
from apps.builder.models import AppDraft
from apps.builder.signing import REGISTER, signer_zelid
from apps.jobs.kinds import job_kind
from apps.jobs.models import Job
from apps.nodes.clients import node_client

JOB_KIND = "app_test_install"
RECENT = timedelta(minutes=15)  # "answered recently": seen by a sweep within this long
MAX_CHOICES = 5
CONNECT_TIMEOUT = 3.05
# FluxOS checks the images (registry look-ups) before its first byte, and a pull can be silent
# for a while between Docker's events.
READ_TIMEOUT_S = 120.0
MAX_STREAM_BYTES = 16 * 1024 * 1024
MAX_STREAM_S = 30 * 60.0
STALL_S = 30.0
PROGRESS_EVERY_S = 5.0  # Docker's byte counters: one line per layer every few seconds at most
NOT_HELD_HINT = ("FluxOS answers this for a hash it does not hold as a temporary message (its hour "
                 "may have passed, or the node has not received it yet) as well as for a zelidauth "
                 "it refuses.")


def offers_test_install(draft: AppDraft) -> bool:
    """A new app whose register message FluxOS holds, not paid yet."""
    return (draft.kind == AppDraft.Kind.NEW and draft.message_type == REGISTER
            and draft.status == AppDraft.Status.AWAITING_PAYMENT and bool(draft.message_hash))


def _label(node) -> str:
    return f"node {node.name} ({node.address})"


def node_choices(draft: AppDraft) -> list:
    """The team's nodes a test install may run on: those that answered within RECENT (latest
    first) and the node the message was submitted to."""
    from apps.nodes.models import Node

    nodes = Node.objects.filter(team=draft.team_id)
    recent = list(nodes.filter(snapshot__last_seen__gte=timezone.now() - RECENT)
                  .order_by("-snapshot__last_seen", "pk")[:MAX_CHOICES])
    if draft.submitted_to.startswith("node ") and not any(_label(n) == draft.submitted_to for n in recent):
        name = draft.submitted_to[5:].rsplit(" (", 1)[0]
        recent += [n for n in nodes.filter(name=name)[:MAX_CHOICES] if _label(n) == draft.submitted_to]
    return recent


def running_job(draft: AppDraft) -> Job | None:
    return (Job.objects.filter(team=draft.team_id, kind=JOB_KIND, params__draft=draft.pk,
                               status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).order_by("-pk").first())


def latest_job(draft: AppDraft) -> Job | None:
    return Job.objects.filter(team=draft.team_id, kind=JOB_KIND, params__draft=draft.pk).order_by("-pk").first()


def start_test_install(*, membership: Membership, draft: AppDraft, node_id) -> Job:
    """The action: ValidationError when the draft or the node does not allow it."""
    require(membership, Role.OPERATOR, "start_test_install")
    with transaction.atomic():
        current = AppDraft.objects.select_for_update().get(pk=draft.pk, team=membership.team)
        if not offers_test_install(current):
            raise ValidationError("A test install is for a new app whose register message FluxOS holds, "
                                  "before it is paid.")
        if running_job(current) is not None:
            raise ValidationError("A test install of this draft is already running: wait for it to end.")
        node = next((n for n in node_choices(current) if str(n.pk) == str(node_id)), None)
        if node is None:
            raise ValidationError("Choose one of the team's nodes that answered recently.")
        job = Job.objects.create(team=current.team, kind=JOB_KIND, requested_by=membership.user,
                                 target=f"test install of {current.name or '(unnamed)'} on {node.name}"[:200],
                                 params={"draft": current.pk, "node": node.pk})
        event(current, membership.user, f"Test install on {_label(node)} started (job #{job.pk})")
        audit.record(team=current.team, actor=membership.user, action=AuditEvent.BUILDER_TEST_INSTALL,
                     target=current, job=job.pk, node=node.pk, hash=current.message_hash)
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from apps.jobs.actions import enqueue

    enqueue(job_id)


class _Lines:
    """A chunk as one output line; Docker's byte counters thinned per layer and step."""

    def __init__(self):
        self.last: dict[str, tuple[str, float]] = {}

    def text(self, chunk: dict) -> str | None:
        status = str(chunk.get("status", ""))
        data = chunk.get("data")
        if status == "success":
            return str(data.get("message") if isinstance(data, dict) else data)
        layer = chunk.get("id")
        if not isinstance(layer, str):
            return status
        counters = chunk.get("progressDetail")
        if isinstance(counters, dict) and counters.get("total"):
            now = time.monotonic()
            seen = self.last.get(layer)
            if seen is not None and seen[0] == status and now - seen[1] < PROGRESS_EVERY_S:
                return None
            self.last[layer] = (status, now)
            progress = chunk.get("progress")
            return f"{layer}: {status} {progress}"[:300] if isinstance(progress, str) else f"{layer}: {status}"
        self.last.pop(layer, None)
        return f"{layer}: {status}"


def _target(ctx, draft: AppDraft, node):
    from apps.builder.jobs import targets

    try:
        membership = member_for_task(ctx.job.requested_by_id, ctx.job.team_id, Role.OPERATOR)
    except PermissionDenied:
        raise RuntimeError("The member who started this test install can no longer act for the team.") from None
    found, notes = targets(draft, membership, signer_zelid(draft))
    target = next((t for t in found if t.check_peers and t.base_url == node.base_url), None)
    if target is None:
        why = next((note for note in notes if note.startswith(f"node {node.name}:")), "")
        raise RuntimeError(f"No valid zelidauth for {_label(node)}" + (f" ({why})" if why else "") +
                           ": sign an app-owner authorisation or a session on that node, then try again.")
    return target


def run_test_install(ctx, draft: AppDraft, node) -> str:
    from fluxpanel.fluxos.client import FluxClientError, FluxError, StreamBounds, Unauthorized

    target = _target(ctx, draft, node)
    read_s = float(getattr(settings, "BUILDER_TEST_INSTALL_READ_TIMEOUT_S", READ_TIMEOUT_S))
    bounds = StreamBounds(max_bytes=int(getattr(settings, "BUILDER_TEST_INSTALL_MAX_BYTES", MAX_STREAM_BYTES)),
                          max_seconds=float(getattr(settings, "BUILDER_TEST_INSTALL_MAX_S", MAX_STREAM_S)),
                          stall_s=STALL_S)
    timeout = (CONNECT_TIMEOUT, read_s)
    client = node_client(target.base_url, zelidauth=target.zelidauth, timeout=timeout, stream_bounds=bounds)
    ctx.log(f"Asking {target.label} to test-install the message {draft.message_hash} (FluxOS pulls the "
            "images, starts the app with minimal resources, then removes it)…", progress=5)
    lines = _Lines()
    count = 0
    try:
        with client.test_install(draft.message_hash, timeout=timeout) as stream:
            for chunk in stream:
                count += 1
                text = lines.text(chunk)
                if text is not None:
                    ctx.log(text[:1000], progress=min(90, 5 + count))
            result = stream.result
    except Unauthorized as exc:
        raise RuntimeError(f"FluxOS refused the test install: {exc.message} {NOT_HELD_HINT}") from None
    except FluxError as exc:
        raise RuntimeError(f"FluxOS: {exc.message}") from None
    except FluxClientError as exc:
        raise RuntimeError(f"{target.label} failed during the test install: {exc.message}") from None
    return result or ""


@job_kind(JOB_KIND, label="Test install of a new app", role=Role.OPERATOR)
def app_test_install(ctx, draft: int, node: int):
    from apps.nodes.models import Node

    current = AppDraft.objects.select_related("team").filter(pk=draft, team_id=ctx.job.team_id).first()
    if current is None or not offers_test_install(current):
        raise RuntimeError("This draft no longer awaits payment of a new app's message: nothing was tested.")
    chosen = Node.objects.filter(pk=node, team_id=ctx.job.team_id).first()
    if chosen is None:
        raise RuntimeError("The chosen node is no longer one of the team's nodes.")
    result = run_test_install(ctx, current, chosen)
    ctx.log(f"Test install finished: {result}", progress=100)
