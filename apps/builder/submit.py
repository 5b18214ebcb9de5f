"""Submitting a signed app message to the network as a Job, and retrying a failed submission.

`start_submit(draft=..., signature=..., actor=...)` is what the signing kinds call once the key
holder's signature verified: it seals the signature for the job (apps.builder.jobs reads it back;
never kept in clear, never rendered), moves the draft to `submitted` and enqueues the `app_submit`
job on commit. Returns the Job.

`retry_submit` starts the job again for a draft whose submission failed (a node that hung or
refused, no valid zelidauth), reusing the same signed message while FluxOS still accepts it (its
timestamp under an hour old): the job asks the network for the message's hash before sending, so a
message a node did broadcast before failing is adopted, never registered twice. Past the hour the
draft goes back to draft: it must be signed again.
"""
from __future__ import annotations

import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.accounts import audit
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.builder.actions import require, set_status
from apps.builder.models import AppDraft
from apps.jobs.models import Job
from fluxpanel import vault

JOB_KIND = "app_submit"
# The signature gets its own vault key: a sealed signature can never be opened as anything else.
VAULT_PURPOSE = "builder.submit"
# FluxOS refuses a message whose timestamp is over an hour old (registerAppGlobalyApi); a retry
# keeps a margin for the call itself.
FLUXOS_MAX_AGE_MS = 3600 * 1000
RETRY_MARGIN_MS = 2 * 60 * 1000
RETRYABLE = (AppDraft.Status.SUBMITTED, AppDraft.Status.AWAITING_SIGNATURE)


def now_ms() -> int:
    return int(time.time() * 1000)


def seal_signature(signature: str) -> str:
    return vault.seal(purpose=VAULT_PURPOSE, data={"signature": signature})


def unseal_signature(sealed: str) -> str | None:
    try:
        opened = vault.unseal(purpose=VAULT_PURPOSE, token=sealed)
    except vault.VaultError:
        return None
    signature = opened.get("signature") if isinstance(opened, dict) else None
    return signature if isinstance(signature, str) and signature else None


def message_fresh(draft: AppDraft, margin_ms: int = 0) -> bool:
    """FluxOS still accepts the draft's signed message (its timestamp is under an hour old)."""
    return (draft.message_timestamp is not None
            and now_ms() - draft.message_timestamp < FLUXOS_MAX_AGE_MS - margin_ms)


def _membership(draft: AppDraft, actor) -> Membership:
    membership = Membership.objects.select_related("team", "user").filter(
        team=draft.team_id, user=getattr(actor, "pk", None)).first()
    if membership is None:
        from apps.wallets.kinds import SigningFailed

        raise SigningFailed("The signer is not a member of this draft's team.")
    return membership


def _new_job(draft: AppDraft, membership: Membership, sealed: str, *, retry_of: int | None = None) -> Job:
    params = {"draft": draft.pk, "sealed": sealed}
    if retry_of is not None:
        params["retry_of"] = retry_of
    return Job.objects.create(team=draft.team, kind=JOB_KIND, requested_by=membership.user,
                              target=f"draft #{draft.pk} {draft.name or '(unnamed)'}"[:200], params=params)


def _enqueue_on_commit(job: Job) -> None:
    from apps.jobs.actions import enqueue

    transaction.on_commit(lambda: enqueue(job.pk))


def start_submit(*, draft, signature: str, actor):
    """Called by the signing kinds' complete() with a verified signature; returns the Job."""
    from apps.wallets.kinds import SigningFailed

    membership = _membership(draft, actor)
    try:
        require(membership, Role.OPERATOR, "start_submit")
    except PermissionDenied as exc:
        raise SigningFailed(str(exc)) from None
    with transaction.atomic():
        current = AppDraft.objects.select_for_update().get(pk=draft.pk)
        if current.status != AppDraft.Status.AWAITING_SIGNATURE:
            raise SigningFailed("The draft is no longer waiting for this signature.")
        job = _new_job(current, membership, seal_signature(signature))
        set_status(current, AppDraft.Status.SUBMITTED, actor=membership.user, submit_job=job,
                   message_hash="", text=f"Signed by {membership.user.username}; submitting (job #{job.pk})")
        audit.record(team=current.team, actor=membership.user, action=AuditEvent.BUILDER_SUBMIT,
                     target=current, job=job.pk, message_type=current.message_type,
                     timestamp=current.message_timestamp)
        _enqueue_on_commit(job)
    draft.refresh_from_db()
    return job


def can_retry(draft: AppDraft) -> bool:
    """A failed (or cancelled) submission of a still-signed message: the Sign tab's Retry."""
    job = draft.submit_job
    return (draft.status in RETRYABLE and job is not None and job.status in (Job.Status.FAILED,
                                                                               Job.Status.CANCELLED)
            and bool((job.params or {}).get("sealed")))


def retry_submit(*, membership: Membership, draft: AppDraft) -> Job:
    """Start the submission again with the same signed message; ValidationError when it cannot."""
    require(membership, Role.OPERATOR, "retry_submit")
    with transaction.atomic():
        current = (AppDraft.objects.select_for_update(of=("self",)).select_related("submit_job")
                   .get(pk=draft.pk, team=membership.team))
        if not can_retry(current):
            raise ValidationError("There is no failed submission of this draft to retry.")
        if not message_fresh(current, RETRY_MARGIN_MS):
            drop_sealed(current.submit_job)
            set_status(current, AppDraft.Status.DRAFT, actor=membership.user, signing_request=None,
                       reason="The signed message is too old for FluxOS (it refuses messages over 1 hour "
                              "old): send the draft for signing again.")
            audit.record(team=current.team, actor=membership.user, action=AuditEvent.BUILDER_SUBMIT_RETRY,
                         target=current, outcome=audit.Outcome.FAILURE, reason=current.reason)
            refused = current.reason
        else:
            refused = ""
            previous = current.submit_job
            job = _new_job(current, membership, previous.params["sealed"], retry_of=previous.pk)
            drop_sealed(previous)
            set_status(current, AppDraft.Status.SUBMITTED, actor=membership.user, submit_job=job,
                       text=f"Submission retried by {membership.user.username} (job #{job.pk})")
            audit.record(team=current.team, actor=membership.user, action=AuditEvent.BUILDER_SUBMIT_RETRY,
                         target=current, job=job.pk, retry_of=previous.pk)
            _enqueue_on_commit(job)
    if refused:
        raise ValidationError(refused)
    draft.refresh_from_db()
    return job


def drop_sealed(job: Job | None) -> None:
    """Forget a job's sealed signature (the message was taken, replaced or is too old)."""
    if job is None or not (job.params or {}).get("sealed"):
        return
    params = {key: value for key, value in job.params.items() if key != "sealed"}
    Job.objects.filter(pk=job.pk).update(params=params)
    job.params = params
