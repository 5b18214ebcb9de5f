"""Job kinds of the builder: `app_submit` sends a signed register/update message to the network.

FluxOS's answer takes seconds (it broadcasts the message and waits for its peers to send it back,
registryManager.registerAppGlobalyApi / advancedWorkflows.updateAppGlobalyApi), so it runs as a Job
whose output the Sign tab follows. The job:

1. opens the sealed signature (apps.builder.submit) and computes the message's hash itself the way
   FluxOS does: sha256(type + version + JSON.stringify(formatted) + timestamp + signature), with
   `compose`/`contacts` emptied for an enterprise spec;
2. tries the team's nodes (the app-sync source node first, confirmed nodes next) and then its
   gateway. A node is used only when it answers and has the peers FluxOS needs to broadcast
   (config.fluxapps minOutgoing 8, minIncoming 4), with a user-level `zelidauth` the team holds:
   the signer's app-owner authorisation (any node), else a session on that node;
3. asks that node for the hash first (temporary, then permanent messages): a message a node did
   broadcast before failing is adopted, never registered twice;
4. sends it, checks the answered hash equals its own, stores it and moves the draft to
   awaiting_payment, then starts the payment watcher (apps.builder.watch) when it exists.

A refusal (an error envelope inside HTTP 200) shows FluxOS's reason and puts the draft back to
awaiting_signature while the signed message is under FluxOS's hour (Retry sends it again), else
back to draft. A node that fails mid-submit (timeout, HTTP 500, reset) leaves the draft submitted
with the reason: Retry first asks the network for the hash.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import member_for_task
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Role
from apps.builder import submit
from apps.builder.actions import set_status
from apps.builder.models import AppDraft
from apps.builder.signing import MESSAGE_VERSION, REGISTER, signer_zelid
from apps.jobs.kinds import job_kind
from apps.nodes.clients import node_client

# FluxOS config.fluxapps: fewer peers than these and the node refuses to register or update.
MIN_OUTGOING, MIN_INCOMING = 8, 4
PEERS_REFUSAL = "Sorry, This Flux does not have enough"
CHECK_TIMEOUT = (3.05, 8.0)
CHECK_DEADLINE_S = 15.0
MAX_NODES = 5
HASH = re.compile(r"^[0-9a-f]{64}$")


class SubmitFailed(Exception):
    """The submission ended without a hash. `sent`: the message may be on the network (a node
    took it and failed before answering), so the draft stays submitted and a retry looks first."""

    def __init__(self, message: str, *, sent: bool = False):
        super().__init__(message)
        self.message, self.sent = message, sent


@dataclass(frozen=True)
class Target:
    label: str
    base_url: str
    zelidauth: str
    check_peers: bool = True


def expected_hash(draft: AppDraft, formatted: dict, signature: str) -> str:
    """The hash FluxOS gives this message (enterprise: compose and contacts emptied first)."""
    from fluxpanel.fluxos.specs import message_hash

    hashed = formatted
    if isinstance(formatted.get("version"), int) and formatted["version"] >= 8 and formatted.get("enterprise"):
        hashed = {key: ([] if key in ("compose", "contacts") else value) for key, value in formatted.items()}
    return message_hash(draft.message_type, hashed, draft.message_timestamp, signature, MESSAGE_VERSION)


def targets(draft: AppDraft, membership, signer: str) -> tuple[list[Target], list[str]]:
    """Where the message may go, in order, each with the zelidauth to send it with; and why the
    others cannot be used (for the job's output)."""
    from apps.deployments.models import AppSyncSettings
    from apps.nodes.models import Node
    from apps.wallets.node_sessions import app_owner_zelidauth, zelidauth_for

    owner_auth = app_owner_zelidauth(membership, signer) if signer else None
    config = AppSyncSettings.objects.filter(team=draft.team).first()
    nodes = Node.objects.filter(team=draft.team)
    ordered = []
    if config is not None and config.source_node_id:
        ordered.extend(nodes.filter(pk=config.source_node_id))
    ordered.extend(nodes.filter(snapshot__flux_status="CONFIRMED").order_by("-snapshot__last_seen", "pk")[:MAX_NODES])
    ordered.extend(nodes.order_by("pk")[:MAX_NODES])
    found, notes, seen = [], [], set()
    for node in ordered:
        if node.pk in seen or len(seen) >= MAX_NODES:
            continue
        seen.add(node.pk)
        auth = owner_auth or zelidauth_for(node, membership)
        if auth is None:
            notes.append(f"node {node.name}: no valid session of the team on it")
            continue
        found.append(Target(f"node {node.name} ({node.address})", node.base_url, auth))
    if config is not None and config.gateway_url:
        if owner_auth:
            found.append(Target(f"gateway {config.gateway_url}", config.gateway_url, owner_auth,
                                check_peers=False))
        else:
            notes.append(f"gateway {config.gateway_url}: needs an app-owner authorisation by {signer}")
    return found, notes


def no_zelidauth_reason(signer: str, notes: list[str]) -> str:
    where = "; ".join(notes) if notes else "the team has no node and no gateway to send it to"
    return (f"No valid zelidauth to submit with: the team holds no live app-owner authorisation by "
            f"{signer} and no session on its nodes ({where}). Sign one (Sign tab), then retry.")


def _peers_ok(ctx, client, target: Target) -> bool:
    out, incoming = len(client.connected_peers()), len(client.incoming_connections())
    if out < MIN_OUTGOING or incoming < MIN_INCOMING:
        ctx.log(f"{target.label}: {out} outgoing and {incoming} incoming peers; FluxOS needs "
                f"{MIN_OUTGOING} and {MIN_INCOMING} to broadcast. Skipped.")
        return False
    return True


def find_on_network(client, draft: AppDraft, digest: str) -> str | None:
    """"temporary" or "permanent" when the node holds this very message, else None."""
    fresh = client.fresh()
    for where, rows in (("temporary", lambda: fresh.temporary_messages(digest)),
                        ("permanent", lambda: fresh.permanent_messages(hash=digest))):
        answer = rows()
        if not isinstance(answer, list):
            continue
        for row in answer[:50]:
            if (isinstance(row, dict) and row.get("hash") == digest and row.get("type") == draft.message_type
                    and str(row.get("timestamp")) == str(draft.message_timestamp)):
                return where
    return None


def _send(target: Target, draft: AppDraft, formatted: dict, signature: str) -> str:
    deadline = float(settings.BUILDER_SUBMIT_DEADLINE_S)
    client = node_client(target.base_url, zelidauth=target.zelidauth, deadline_s=deadline)
    call = client.register_app if draft.message_type == REGISTER else client.update_app
    return call(formatted, draft.message_timestamp, signature)


def run_submit(ctx, draft: AppDraft, signature: str) -> tuple[str, str, bool]:
    """(hash, where, adopted); SubmitFailed otherwise."""
    from fluxpanel.fluxos.client import FluxClientError, FluxError, Unauthorized
    from fluxpanel.fluxos.specs import format_spec

    # PostgreSQL's jsonb does not keep key order: the formatter (idempotent) restores FluxOS's.
    formatted = format_spec(draft.message_spec)
    digest = expected_hash(draft, formatted, signature)
    ctx.log(f"{draft.message_type} of {draft.name or '(unnamed)'}, signed at {draft.message_timestamp}: "
            f"its hash is {digest}.", progress=5)
    if not submit.message_fresh(draft):
        raise SubmitFailed("The signed message is over 1 hour old: FluxOS refuses it.")
    try:
        membership = member_for_task(ctx.job.requested_by_id, ctx.job.team_id, Role.OPERATOR)
    except PermissionDenied:
        raise SubmitFailed("The member who started this submission can no longer act for the team.") from None
    signer = signer_zelid(draft)
    found, notes = targets(draft, membership, signer)
    for note in notes:
        ctx.log(note)
    if not found:
        raise SubmitFailed(no_zelidauth_reason(signer, notes))
    problems = []
    for index, target in enumerate(found):
        # ctx.log also notices a cancellation asked meanwhile.
        ctx.log(f"Trying {target.label}…", progress=10 + index * 60 // len(found))
        client = node_client(target.base_url, timeout=CHECK_TIMEOUT, deadline_s=CHECK_DEADLINE_S)
        try:
            if target.check_peers and not _peers_ok(ctx, client, target):
                problems.append(f"{target.label}: not enough peers")
                continue
            where = find_on_network(client, draft, digest)
        except FluxClientError as exc:
            ctx.log(f"{target.label}: not usable — {exc.message}")
            problems.append(f"{target.label}: {exc.message}")
            continue
        if where:
            ctx.log(f"{target.label} already holds this message ({where} message): adopting its hash, "
                    "not sending it again.")
            return digest, target.label, True
        ctx.log(f"Sending the signed message to {target.label} (FluxOS broadcasts it and waits for its "
                "peers: this takes seconds)…", progress=75)
        try:
            answer = _send(target, draft, formatted, signature)
        except Unauthorized as exc:
            ctx.log(f"{target.label} refused the zelidauth: {exc.message}")
            problems.append(f"{target.label}: zelidauth refused")
            continue
        except FluxError as exc:
            if exc.message.startswith(PEERS_REFUSAL):
                ctx.log(f"{target.label}: {exc.message}")
                problems.append(f"{target.label}: {exc.message}")
                continue
            ctx.log(f"FluxOS refused the message: {exc.message}")
            raise SubmitFailed(f"FluxOS refused the message: {exc.message}") from None
        except FluxClientError as exc:
            raise SubmitFailed(f"{target.label} failed during the submission ({exc.message}). It may have "
                               "broadcast the message: Retry asks the network for its hash first, so it is "
                               "never registered twice.", sent=True) from None
        if not (isinstance(answer, str) and HASH.match(answer)):
            raise SubmitFailed(f"{target.label} answered something that is not a message hash. Retry asks "
                               "the network for the message's hash first.", sent=True)
        if answer != digest:
            raise SubmitFailed(f"{target.label} answered the hash {answer}, but this message's hash is "
                               f"{digest}: not adopted. Retry asks the network for {digest} first.", sent=True)
        ctx.log(f"{target.label} accepted the message: hash {answer} (the panel's own matches).", progress=90)
        return answer, target.label, False
    if all("zelidauth refused" in problem for problem in problems):
        raise SubmitFailed(no_zelidauth_reason(signer, notes + problems))
    raise SubmitFailed("No node could take the message: " + "; ".join(problems))


def _locked(draft_id: int, job_id: int) -> AppDraft | None:
    draft = AppDraft.objects.select_for_update().filter(pk=draft_id).first()
    return draft if draft is not None and draft.submit_job_id == job_id else None


def accepted(ctx, draft_id: int, digest: str, where: str, adopted: bool) -> AppDraft | None:
    actor = ctx.job.requested_by
    with transaction.atomic():
        draft = _locked(draft_id, ctx.job.pk)
        if draft is None:
            return None
        set_status(draft, AppDraft.Status.AWAITING_PAYMENT, actor=actor, message_hash=digest,
                   submitted_to=where[:300], submitted_at=timezone.now(),
                   text=f"Accepted by the network via {where}: hash {digest}" + (" (adopted)" if adopted else ""))
        audit.record(team=draft.team, actor=actor, action=AuditEvent.BUILDER_SUBMIT_ACCEPTED, target=draft,
                     job=ctx.job.pk, hash=digest, via=where, adopted=adopted)
        submit.drop_sealed(ctx.job)  # the signature did its work: nothing to send again
    return draft


def failed(ctx, draft_id: int, reason: str, *, sent: bool) -> None:
    actor = ctx.job.requested_by
    with transaction.atomic():
        draft = _locked(draft_id, ctx.job.pk)
        if draft is None or draft.status != AppDraft.Status.SUBMITTED:
            return
        if sent:
            set_status(draft, AppDraft.Status.SUBMITTED, actor=actor, reason=reason)
        elif submit.message_fresh(draft, submit.RETRY_MARGIN_MS):
            set_status(draft, AppDraft.Status.AWAITING_SIGNATURE, actor=actor, reason=reason)
        else:
            reason = f"{reason} The signed message is too old to retry: send the draft for signing again."
            set_status(draft, AppDraft.Status.DRAFT, actor=actor, reason=reason, signing_request=None)
            submit.drop_sealed(ctx.job)
        audit.record(team=draft.team, actor=actor, action=AuditEvent.BUILDER_SUBMIT_FAILED, target=draft,
                     outcome=audit.Outcome.FAILURE, job=ctx.job.pk, reason=draft.reason, sent=sent,
                     status=draft.status)


def start_watch(ctx, draft: AppDraft) -> None:
    try:
        from apps.builder.watch import start_watch as watch
    except ImportError:
        ctx.log("Payment watching is not available in this version: pay, then check the Apps page.")
        return
    try:
        job = watch(draft=draft, actor=ctx.job.requested_by)
    except Exception as exc:  # the hash is stored: a watcher that cannot start does not undo that
        ctx.log(f"The payment watcher could not start: {exc}")
        return
    ctx.log(f"Watching for the payment (job #{job.pk})." if getattr(job, "pk", None) else "Watching for the payment.")


@job_kind("app_submit", label="Submit an app message", role=Role.OPERATOR)
def app_submit(ctx, draft: int, sealed: str = "", retry_of: int | None = None):
    from apps.jobs.runner import JobCancelled

    current = AppDraft.objects.select_related("team", "app").filter(pk=draft, team_id=ctx.job.team_id).first()
    if current is None or current.submit_job_id != ctx.job.pk or current.status != AppDraft.Status.SUBMITTED:
        raise RuntimeError("This draft is no longer being submitted by this job: nothing was sent.")
    if retry_of:
        ctx.log(f"Retry of job #{retry_of}.")
    signature = submit.unseal_signature(sealed) if sealed else None
    try:
        if signature is None:
            raise SubmitFailed("The signature of this submission can no longer be opened (the panel's key "
                               "changed, or it was already used): send the draft for signing again.")
        digest, where, adopted = run_submit(ctx, current, signature)
    except SubmitFailed as failure:
        failed(ctx, current.pk, failure.message, sent=failure.sent)
        raise RuntimeError(failure.message) from None
    except JobCancelled:
        failed(ctx, current.pk, "The submission was cancelled; Retry asks the network for the message's "
                                "hash before sending again.", sent=True)
        raise
    except Exception:
        failed(ctx, current.pk, "The submission stopped on an unexpected error; Retry asks the network for "
                                "the message's hash before sending again.", sent=True)
        raise
    draft_row = accepted(ctx, current.pk, digest, where, adopted)
    if draft_row is not None:
        start_watch(ctx, draft_row)
