"""Every write of the wallets app, each with its audit row in the same transaction.

Views, the API, tasks and the signing kinds call these; nothing else in apps.wallets writes. Each
action checks the role it needs itself (`require_role`), so a caller cannot forget it. What is
only read (checks, queues, message texts) stays in challenges.py, signing.py and node_sessions.py.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from functools import partial
from importlib import import_module

from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import current_membership, member_for_task, memberships_of, require_role
from apps.accounts.audit import AuditEvent, Outcome
from apps.accounts.models import Membership, Role
from apps.jobs.actions import release_held_jobs
from apps.jobs.models import HELD_FOR
from apps.nodes.models import Node
from apps.wallets import challenges, node_sessions, signing
from apps.wallets.kinds import SigningFailed, SignRefused, get_kind
from apps.wallets.models import (
    EXPIRY_WARNING,
    AppOwnerAuthorisation,
    Challenge,
    NodeSession,
    SigningRequest,
    WalletIdentity,
    batch_audit_flow,
)
from apps.wallets.zelids import zelid_key, zelid_kind

log = logging.getLogger(__name__)
Status = SigningRequest.Status
Purpose = Challenge.Purpose
BACKEND = "django.contrib.auth.backends.ModelBackend"
KEEP_USED_CHALLENGES = timedelta(hours=1)
# The payload key of a signing request listing the jobs held until it is signed.
HELD_JOBS = "release_jobs"
PURGE_BATCH = 500  # rows deleted per purge, so an issue() never pays for a backlog


# --------------------------------------------------------------------------- challenges


def issue_challenge(request, purpose: str) -> Challenge:
    """A new challenge for this browser (the caller throttles: apps.wallets.throttle)."""
    now = timezone.now()
    purge_challenges(now)
    user = request.user if request.user.is_authenticated else None
    return Challenge.objects.create(
        purpose=purpose, session_hash=challenges.binding_hash(request), user=user, created_at=now,
        expires_at=now + Challenge.LIFE,
        message=challenges.build_message(purpose, host=request.get_host(),
                                         username=user.get_username() if user else "", now=now),
    )


def purge_challenges(now=None, *, limit: int = PURGE_BATCH) -> int:
    """Delete up to `limit` challenges expired more than an hour ago (old ones are worthless)."""
    now = now or timezone.now()
    ids = list(Challenge.objects.filter(expires_at__lt=now - KEEP_USED_CHALLENGES)
               .values_list("pk", flat=True)[:limit])
    return Challenge.objects.filter(pk__in=ids).delete()[0] if ids else 0


def _claim_challenge(challenge: Challenge) -> None:
    if not Challenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(
            used_at=timezone.now()):
        raise SignRefused("This message was already used: each message is accepted once. Get a "
                          "new message.", "used", 409)


def complete_challenge(request, challenge: Challenge, zelid: str) -> str:
    """Finish a verified challenge in this browser: sign in, or link the ZelID."""
    if challenge.purpose == Purpose.SIGN_IN:
        return _sign_in(request, challenge, zelid)
    return _bind(request, challenge, zelid)


def _sign_in(request, challenge: Challenge, zelid: str) -> str:
    identity = challenges.account_for(zelid)
    user = identity.user
    with transaction.atomic():
        _claim_challenge(challenge)
        WalletIdentity.objects.filter(pk=identity.pk).update(last_signed_at=timezone.now())
        membership = memberships_of(user).order_by("team__name").first()
        audit.record(team=membership.team if membership else None, actor=user,
                     action=AuditEvent.WALLET_SIGNIN, target=identity, zelid=identity.zelid)
    login(request, user, backend=BACKEND)
    return f"Signed in as {user.get_username()} with {identity.zelid}."


def _bind(request, challenge: Challenge, zelid: str) -> str:
    challenges.check_bindable(challenge, zelid)
    with transaction.atomic():
        _claim_challenge(challenge)
        identity, created = WalletIdentity.objects.get_or_create(
            zelid_key=zelid_key(zelid),
            defaults={"user": request.user, "zelid": zelid, "kind": zelid_kind(zelid)},
        )
        WalletIdentity.objects.filter(pk=identity.pk).update(last_signed_at=timezone.now())
        membership = current_membership(request)
        audit.record(team=membership.team if membership else None, actor=request.user,
                     action=AuditEvent.WALLET_BIND, target=identity, zelid=identity.zelid,
                     new=created)
    if not created:
        return f"{identity.zelid} was already linked to your account; it is proven again."
    return f"{identity.zelid} is now linked to your account: you are its key holder."


def accept_challenge_callback(*, token: str, address: str, message: str, signature: str) -> str:
    """ZelCore posted a signature for a challenge: verify it and leave the rest to the browser's
    poll (signing in must happen in the browser's own session)."""
    challenge = Challenge.objects.filter(token=token).first()
    if challenge is None:
        raise SignRefused("No such message.", "unknown", 404)
    try:
        challenges.check(challenge, address=address, message=message, signature=signature)
        if challenge.purpose == Purpose.SIGN_IN:
            challenges.account_for(address)
        else:
            challenges.check_bindable(challenge, address)
    except SignRefused as refused:
        if refused.code != "used":
            Challenge.objects.filter(pk=challenge.pk, used_at__isnull=True, proven_zelid="").update(
                callback_error=refused.message[:300])
        raise
    if not Challenge.objects.filter(pk=challenge.pk, used_at__isnull=True, proven_zelid="").update(
            proven_zelid=address, callback_error=""):
        raise SignRefused("This message was already used: each message is accepted once.", "used", 409)
    return "Signature received. Return to the panel in your browser."


def unlink_identity(*, user, team, identity_id: int) -> WalletIdentity | None:
    """Forget that `user` holds one of their own ZelIDs; None when they have no such ZelID."""
    identity = WalletIdentity.objects.filter(user=user, pk=identity_id).first()
    if identity is None:
        return None
    with transaction.atomic():
        audit.record(team=team, actor=user, action=AuditEvent.WALLET_UNBIND, target=identity,
                     zelid=identity.zelid)
        identity.delete()
    return identity


# --------------------------------------------------------------------------- signing requests


def create_request(*, membership: Membership, kind: str, zelid: str, purpose: str, node=None,
                   payload=None, batch: str = "") -> SigningRequest:
    require_role(membership, Role.OPERATOR)
    signing_kind = get_kind(kind)
    with transaction.atomic():
        request = SigningRequest.objects.create(
            team=membership.team, kind=kind, zelid=zelid, zelid_key=zelid_key(zelid), node=node,
            batch=batch, purpose=purpose[:300], payload=payload or {}, created_by=membership.user,
            expires_at=timezone.now() + signing_kind.life,
        )
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.SIGNING_CREATE,
                     target=request, kind=kind, zelid=zelid, node=node.name if node else "",
                     batch=batch)
    return request


def hold_job_until_signed(*, membership: Membership, job, zelid: str, purpose: str) -> SigningRequest:
    """Hold a queued job (not sent to a worker) until the key holder of `zelid` signs an app-owner
    authorisation: the open request for it is reused, or one is made. Signed, the job starts; the
    request ending otherwise cancels it (see _finish). Call inside the job's transaction."""
    request = (SigningRequest.objects.select_for_update()
               .filter(team=membership.team, kind="app_owner", zelid_key=zelid_key(zelid),
                       status=Status.PENDING, expires_at__gt=timezone.now()).first())
    if request is None:
        request = create_request(membership=membership, kind="app_owner", zelid=zelid, purpose=purpose,
                                 batch=signing.new_batch())
    request.payload = {**(request.payload or {}),
                       HELD_JOBS: [*(request.payload or {}).get(HELD_JOBS, []), job.pk]}
    request.save(update_fields=["payload"])
    job.params = {**job.params, HELD_FOR: request.pk}
    job.save(update_fields=["params"])
    return request


def prepare_node_logins(*, membership: Membership, zelid: str, nodes: list[Node],
                        purpose: str) -> tuple[str, list[SigningRequest]]:
    """One login request per node, in one batch the key holder signs one after another. A node
    that already has an open login request for this ZelID gets that one moved into the batch."""
    require_role(membership, Role.OPERATOR)
    if not nodes:
        raise ValidationError("No node to log in to.")
    batch = signing.new_batch()
    requests = []
    for node in nodes:
        open_request = SigningRequest.objects.filter(
            team=membership.team, kind="node_login", node=node, zelid_key=zelid_key(zelid),
            status=Status.PENDING, expires_at__gt=timezone.now(),
        ).first()
        if open_request is not None:
            SigningRequest.objects.filter(pk=open_request.pk).update(batch=batch)
            requests.append(open_request)
            continue
        requests.append(create_request(membership=membership, kind="node_login",
                                       zelid=signing.spelling_on_node(node, zelid),
                                       purpose=purpose, node=node, batch=batch))
    return batch, requests


def renew_all(*, membership: Membership) -> tuple[str, dict[str, list[Node]]]:
    """One batch with a login request per session that ends within three days (or has ended):
    (batch, nodes by ZelID); an empty dict when nothing needs renewing."""
    require_role(membership, Role.OPERATOR)
    expiring = list(node_sessions.expiring_sessions(membership.team).select_related("node"))
    by_zelid: dict[str, list[Node]] = {}
    for session in expiring:
        by_zelid.setdefault(session.zelid, []).append(session.node)
    if not by_zelid:
        return "", {}
    batch = signing.new_batch()
    with transaction.atomic():
        for zelid, nodes in by_zelid.items():
            for node in nodes:
                create_request(membership=membership, kind="node_login", zelid=zelid, node=node,
                               batch=batch,
                               purpose=f"Renew the session of {zelid} on this node before it ends.")
        with audit.within_flow(batch_audit_flow(batch)):
            audit.record(team=membership.team, actor=membership.user,
                         action=AuditEvent.NODE_SESSION_RENEW, target=None, batch=batch,
                         sessions=len(expiring))
    return batch, by_zelid


def open_next(*, membership: Membership, batch: str = "", request_id: int | None = None):
    """The next request this key holder can sign, with a fresh message, or None when done.

    A node that gives no phrase (or one the panel refuses to show) fails its request, with the
    reason, and the queue moves on.
    """
    require_role(membership, Role.OPERATOR)
    while True:
        candidates = signing.signable(membership).order_by("created_at", "id")
        if batch:
            candidates = candidates.filter(batch=batch)
        if request_id is not None:
            candidates = candidates.filter(pk=request_id)
        request = candidates.first()
        if request is None:
            return None
        try:
            return _ensure_message(request, membership)
        except SigningFailed as exc:
            _finish(request, Status.FAILED, membership.user, str(exc), action=AuditEvent.SIGNING_FAIL)


def _ensure_message(request: SigningRequest, membership: Membership) -> SigningRequest:
    signing_kind = get_kind(request.kind)
    now = timezone.now()
    stale = not request.message or request.message_at is None or (
        now - request.message_at >= signing_kind.message_life)
    if stale:
        message = signing_kind.prepare(request)  # may call a node: outside the transaction
        with transaction.atomic():
            SigningRequest.objects.filter(pk=request.pk, status=Status.PENDING).update(
                message=message, message_at=now, opened_by=membership.user, callback_error="")
            audit.record(team=request.team, actor=membership.user, action=AuditEvent.SIGNING_OPEN,
                         target=request, kind=request.kind,
                         node=request.node.name if request.node else "")
    elif request.opened_by_id != membership.user_id:
        SigningRequest.objects.filter(pk=request.pk).update(opened_by=membership.user)
    request.refresh_from_db()
    return request


def sign(*, request: SigningRequest, actor, address: str, message: str, signature: str,
         via: str) -> str:
    """Verify, then run the request's action as `actor` (who must be its key holder). Returns the
    outcome for the page; raises SignRefused (nothing changed) or SigningFailed (request failed)."""
    try:
        if not signing.is_key_holder(actor, request.zelid):
            raise SignRefused(f"Only the key holder of {request.zelid} can sign this request. Link "
                              "that ZelID to your account on the Wallet page first.",
                              "not_key_holder", 403)
        signing.check_signature(request, address=address, message=message, signature=signature)
    except SignRefused as refused:
        audit.record(team=request.team, actor=actor, action=AuditEvent.SIGNING_REFUSE,
                     target=request, outcome=Outcome.FAILURE, reason=refused.code, via=via)
        raise
    # Claim it: of two concurrent signatures (a browser and a ZelCore callback) only one runs.
    if not SigningRequest.objects.filter(pk=request.pk, status=Status.PENDING).update(
            status=Status.SIGNING):
        raise SignRefused("This request was already signed: a signature is accepted once, and "
                          "nothing was changed.", "used", 409)
    request.refresh_from_db()
    try:
        with audit.within_flow(request.audit_flow):
            outcome = get_kind(request.kind).complete(request, signature, actor)
    except SigningFailed as exc:
        _finish(request, Status.FAILED, actor, str(exc), action=AuditEvent.SIGNING_FAIL, via=via)
        raise
    except Exception:
        # The signature may already be with a node: the page gets a clear answer, not a 500.
        log.exception("signing kind %s failed on request %s", request.kind, request.pk)
        text = "The action failed unexpectedly after the signature was checked; nothing more was done."
        _finish(request, Status.FAILED, actor, text, action=AuditEvent.SIGNING_FAIL, via=via)
        raise SigningFailed(text) from None
    WalletIdentity.objects.filter(zelid_key=request.zelid_key).update(last_signed_at=timezone.now())
    _finish(request, Status.SIGNED, actor, outcome, action=AuditEvent.SIGNING_SIGN, via=via)
    return outcome


def sign_from_callback(*, token: str, address: str, message: str, signature: str) -> str:
    """ZelCore posted a signature: act as the key holder who opened the request in the panel."""
    request = SigningRequest.objects.select_related("team", "node").filter(token=token).first()
    if request is None:
        raise SignRefused("No such signing request.", "unknown", 404)
    actor = request.opened_by
    if actor is None:
        raise SignRefused("Open this request in the panel before signing it.", "not_open", 409)
    try:
        member_for_task(actor.pk, request.team_id, Role.OPERATOR)
    except PermissionDenied:
        raise SignRefused("The member who opened this request can no longer sign for the team.",
                          "not_key_holder", 403) from None
    try:
        return sign(request=request, actor=actor, address=address, message=message,
                    signature=signature, via="zelcore")
    except SignRefused as refused:
        if refused.code not in ("used", "closed", "unknown"):
            # Tell the waiting page why (a replay must not touch a finished request).
            SigningRequest.objects.filter(pk=request.pk, status=Status.PENDING).update(
                callback_error=refused.message[:300])
        raise


def decline(*, membership: Membership, request: SigningRequest) -> None:
    require_role(membership, Role.OPERATOR)
    if not signing.is_key_holder(membership.user, request.zelid):
        raise PermissionDenied(f"Only the key holder of {request.zelid} can decline this request.")
    _close_open(request, Status.DECLINED, membership.user, "Declined by the key holder.",
                action=AuditEvent.SIGNING_DECLINE)


def cancel(*, membership: Membership, request: SigningRequest) -> None:
    """Withdraw a request: whoever prepared it, or a manager."""
    require_role(membership, Role.OPERATOR)
    if request.created_by_id != membership.user_id and not membership.can(Role.MANAGER):
        raise PermissionDenied("Only whoever prepared this request, or a manager, can withdraw it.")
    _close_open(request, Status.CANCELLED, membership.user, "Withdrawn.",
                action=AuditEvent.SIGNING_CANCEL)


def _close_open(request, status, actor, outcome, *, action):
    if request.status != Status.PENDING:
        raise ValidationError(f"This request is already {request.get_status_display().lower()}.")
    _finish(request, status, actor, outcome, action=action)


def _finish(request: SigningRequest, status: str, actor, outcome: str, *, action, **detail):
    with transaction.atomic():
        SigningRequest.objects.filter(pk=request.pk).update(
            status=status, decided_by=actor, decided_at=timezone.now(), outcome=outcome[:300],
            callback_error="")
        closed = get_kind(request.kind).closed if status != Status.SIGNED else None
        if closed is not None:
            closed(request, status, outcome)
        held = (request.payload or {}).get(HELD_JOBS)
        if held:
            release_held_jobs(request.team_id, held, signed=status == Status.SIGNED, reason=outcome)
        audit.record(team=request.team, actor=actor, action=action, target=request,
                     outcome=Outcome.FAILURE if status == Status.FAILED else Outcome.SUCCESS,
                     kind=request.kind, result=outcome[:200], **detail)
    request.refresh_from_db()


def expire_overdue(now=None) -> int:
    """Mark expired the open requests past their time (each with its audit row)."""
    now = now or timezone.now()
    overdue = list(SigningRequest.objects.filter(status__in=SigningRequest.OPEN, expires_at__lte=now)
                   .select_related("team")[:PURGE_BATCH])
    for request in overdue:
        _finish(request, Status.EXPIRED, None, "Expired before the key holder signed.",
                action=AuditEvent.SIGNING_EXPIRE)
    return len(overdue)


# --------------------------------------------------------------------------- node sessions


def store_node_session(*, team, node, zelid: str, login_phrase: str, signature: str,
                       privilege: str, expires_at: datetime, actor) -> tuple[NodeSession, dict | None]:
    """Keep a node login, sealed; returns the session and the triple it replaced (if any), so the
    caller can end the old one on the node."""
    with transaction.atomic():
        existing = NodeSession.objects.select_for_update().filter(node=node, zelid=zelid).first()
        replaced = node_sessions.unseal(existing.sealed) if existing is not None else None
        session, _ = NodeSession.objects.update_or_create(
            node=node, zelid=zelid,
            defaults={
                "team": team, "privilege": privilege or "user",
                "sealed": node_sessions.seal(node_sessions.triple(zelid, login_phrase, signature)),
                "created_by": actor, "created_at": timezone.now(), "expires_at": expires_at,
                "last_used_at": None, "warned_at": None,
            },
        )
        audit.record(team=team, actor=actor, action=AuditEvent.NODE_SESSION_STORE, target=session,
                     node=node.name, zelid=zelid, privilege=session.privilege,
                     expires_at=expires_at.isoformat(), renewed=existing is not None)
    return session, replaced


def note_session_used(session: NodeSession, now) -> None:
    """Bookkeeping only (shown on the sessions page), so no audit row per use of a session."""
    NodeSession.objects.filter(pk=session.pk).update(last_used_at=now)


def logout_session(*, membership: Membership, session: NodeSession) -> str:
    """End the session on its node, then forget it here (even when the node cannot be reached,
    so the panel stops holding it). Returns what happened on the node, for the page."""
    require_role(membership, Role.OPERATOR)
    if session.team_id != membership.team_id:
        raise PermissionDenied("This session belongs to another team.")
    node = session.node
    opened = node_sessions.unseal(session.sealed)
    if opened is None:
        result = "could not be opened with this panel's key, so it was only forgotten here"
    else:
        result = node_sessions.logout_on_node(node.base_url, opened)
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user,
                     action=AuditEvent.NODE_SESSION_LOGOUT, target=session, node=node.name,
                     zelid=session.zelid, on_node=result)
        session.delete()
    return result


def store_app_owner_authorisation(*, team, zelid: str, login_phrase: str, signature: str,
                                  actor) -> AppOwnerAuthorisation:
    expires_at = node_sessions.phrase_time(login_phrase) + node_sessions.APP_OWNER_LIFE
    with transaction.atomic():
        authorisation, _ = AppOwnerAuthorisation.objects.update_or_create(
            team=team, zelid=zelid,
            defaults={"sealed": node_sessions.seal(node_sessions.triple(zelid, login_phrase, signature)),
                      "created_by": actor, "created_at": timezone.now(), "expires_at": expires_at},
        )
        audit.record(team=team, actor=actor, action=AuditEvent.APP_OWNER_AUTHORISE,
                     target=authorisation, zelid=zelid, expires_at=expires_at.isoformat())
    return authorisation


def revoke_authorisation(*, membership: Membership, authorisation: AppOwnerAuthorisation) -> None:
    """Forget it here. A self-issued phrase cannot be ended on the nodes: it lapses by itself."""
    require_role(membership, Role.OPERATOR)
    if authorisation.team_id != membership.team_id:
        raise PermissionDenied("This authorisation belongs to another team.")
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.APP_OWNER_REVOKE,
                     target=authorisation, zelid=authorisation.zelid)
        authorisation.delete()


# --------------------------------------------------------------------------- schedules


def warn_expiring_sessions(now=None) -> int:
    """Mail each team's key holders (and whoever stored the session) once per session that ends
    within three days. Returns how many sessions were announced."""
    now = now or timezone.now()
    due = list(NodeSession.objects.filter(warned_at__isnull=True, expires_at__gt=now,
                                          expires_at__lte=now + EXPIRY_WARNING)
               .select_related("node", "team", "created_by"))
    by_team = defaultdict(list)
    for session in due:
        by_team[session.team].append(session)
    for team, team_sessions in by_team.items():
        recipients = _recipients(team, team_sessions)
        lines = [f"- {s.node.name}: {s.zelid} ({s.privilege}) ends {s.expires_at:%Y-%m-%d %H:%M} UTC"
                 for s in team_sessions]
        body = ("These node sessions of " + team.name + " end within three days. Renew them all "
                "at once on the panel's Wallet › Node sessions page (Renew all).\n\n" + "\n".join(lines))
        subject = f"[fluxpanel] {len(team_sessions)} node session(s) of {team.name} end soon"
        with transaction.atomic():
            NodeSession.objects.filter(pk__in=[s.pk for s in team_sessions]).update(warned_at=now)
            audit.record(team=team, actor=None, action=AuditEvent.NODE_SESSION_WARN, target=None,
                         sessions=len(team_sessions), recipients=len(recipients))
            if recipients:
                transaction.on_commit(partial(send_mail, subject, body, None, sorted(recipients),
                                              fail_silently=True))
    return len(due)


def _recipients(team, team_sessions) -> set[str]:
    keys = {zelid_key(s.zelid) for s in team_sessions}
    member_ids = Membership.objects.filter(team=team).values_list("user_id", flat=True)
    holders = WalletIdentity.objects.filter(zelid_key__in=keys, user_id__in=member_ids)
    emails = {identity.user.email for identity in holders.select_related("user")}
    emails |= {s.created_by.email for s in team_sessions if s.created_by}
    return {email for email in emails if email}


def purge_expired(now: datetime | None = None) -> dict:
    """Delete app-owner authorisations past their 2 hours, node sessions long expired, old
    challenges, and expired browser sessions (anonymous visitors' included)."""
    now = now or timezone.now()
    authorisations = AppOwnerAuthorisation.objects.filter(expires_at__lte=now).delete()[0]
    sessions = NodeSession.objects.filter(
        expires_at__lte=now - node_sessions.KEEP_EXPIRED).delete()[0]
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return {"authorisations": authorisations, "sessions": sessions,
            "challenges": purge_challenges(now, limit=50 * PURGE_BATCH)}


def housekeeping(now=None) -> dict:
    now = now or timezone.now()
    return {"expired_requests": expire_overdue(now), **purge_expired(now)}
