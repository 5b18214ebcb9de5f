"""Signing requests: prepare, open (issue the message), sign, decline, withdraw, expire.

Every step writes its audit row. A refused signature (wrong address, changed message, expired,
already used, invalid) raises SignRefused before anything changes; the row it leaves is an audit
row of outcome "failure", nothing else.
"""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import member_for_task, require_role
from apps.accounts.models import Membership, Role
from apps.nodes.models import Node, NodeSnapshot
from apps.wallets.kinds import SigningFailed, SignRefused, get_kind
from apps.wallets.models import SigningRequest, WalletIdentity
from apps.wallets.zelids import same_zelid, zelid_key
from fluxpanel.fluxos.client import FluxClientError, NodeClient
from fluxpanel.fluxos.signatures import verify_message

Status = SigningRequest.Status
OWNER_LOOKUP_WORKERS = 16


# --------------------------------------------------------------------------- key holders


def identity_keys(user) -> list[str]:
    return list(WalletIdentity.objects.filter(user=user).values_list("zelid_key", flat=True))


def is_key_holder(user, zelid: str) -> bool:
    return WalletIdentity.objects.filter(user=user, zelid_key=zelid_key(zelid)).exists()


def signable(membership: Membership):
    """Open requests of the team that this member can sign (their proven ZelIDs)."""
    return SigningRequest.objects.filter(
        team=membership.team, status=Status.PENDING, expires_at__gt=timezone.now(),
        zelid_key__in=identity_keys(membership.user),
    ).select_related("node")


# --------------------------------------------------------------------------- prepare


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
        audit.record(team=membership.team, actor=membership.user, action="signing.create",
                     target=request, kind=kind, zelid=zelid, node=node.name if node else "",
                     batch=batch)
    return request


def new_batch() -> str:
    return uuid.uuid4().hex


def prepare_node_logins(*, membership: Membership, zelid: str, nodes: list[Node],
                        purpose: str) -> tuple[str, list[SigningRequest]]:
    """One login request per node, in one batch the key holder signs one after another. A node
    that already has an open login request for this ZelID gets that one moved into the batch."""
    require_role(membership, Role.OPERATOR)
    if not nodes:
        raise ValidationError("No node to log in to.")
    batch = new_batch()
    requests = []
    for node in nodes:
        spelled = _spelling_on_node(node, zelid)
        open_request = SigningRequest.objects.filter(
            team=membership.team, kind="node_login", node=node, zelid_key=zelid_key(zelid),
            status=Status.PENDING, expires_at__gt=timezone.now(),
        ).first()
        if open_request is not None:
            SigningRequest.objects.filter(pk=open_request.pk).update(batch=batch)
            requests.append(open_request)
            continue
        requests.append(create_request(membership=membership, kind="node_login", zelid=spelled,
                                       purpose=purpose, node=node, batch=batch))
    return batch, requests


def _spelling_on_node(node: Node, zelid: str) -> str:
    """FluxOS compares the admin ZelID exactly: log in with the owner's spelling of an 0x ID."""
    reported = _snapshot_zelid(node)
    return reported if reported and same_zelid(reported, zelid) else zelid


def _snapshot_zelid(node: Node) -> str:
    try:
        snapshot = node.snapshot
    except NodeSnapshot.DoesNotExist:
        return ""
    return str((snapshot.detail or {}).get("zelid") or "")


def nodes_owned_by(team, zelid: str) -> list[Node]:
    """The team's nodes whose owner (admin) ZelID is `zelid`: from the last sweep, and for nodes
    not swept yet, from the node itself (/flux/id)."""
    nodes = list(Node.objects.filter(team=team).select_related("snapshot"))
    owned, unknown = [], []
    for node in nodes:
        reported = _snapshot_zelid(node)
        if reported:
            if same_zelid(reported, zelid):
                owned.append(node)
        else:
            unknown.append(node)
    if unknown:
        with ThreadPoolExecutor(max_workers=min(OWNER_LOOKUP_WORKERS, len(unknown))) as pool:
            for node, reported in zip(unknown, pool.map(_ask_owner, unknown), strict=True):
                if reported and same_zelid(reported, zelid):
                    owned.append(node)
    return sorted(owned, key=lambda n: n.name)


def _ask_owner(node: Node) -> str:
    try:
        return str(NodeClient(node.base_url, timeout=(2, 5)).node_zelid() or "")
    except FluxClientError:
        return ""


# --------------------------------------------------------------------------- open


def open_next(*, membership: Membership, batch: str = "", request_id: int | None = None):
    """The next request this key holder can sign, with a fresh message, or None when done.

    A node that gives no phrase fails its request (with the reason) and the queue moves on.
    """
    require_role(membership, Role.OPERATOR)
    while True:
        candidates = signable(membership).order_by("created_at", "id")
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
            _finish(request, Status.FAILED, membership.user, str(exc), action="signing.fail")


def _ensure_message(request: SigningRequest, membership: Membership) -> SigningRequest:
    signing_kind = get_kind(request.kind)
    now = timezone.now()
    stale = not request.message or request.message_at is None or (
        now - request.message_at >= signing_kind.message_life)
    if stale:
        message = signing_kind.prepare(request)
        SigningRequest.objects.filter(pk=request.pk, status=Status.PENDING).update(
            message=message, message_at=now, opened_by=membership.user, callback_error="")
        audit.record(team=request.team, actor=membership.user, action="signing.open",
                     target=request, kind=request.kind, node=request.node.name if request.node else "")
    elif request.opened_by_id != membership.user_id:
        SigningRequest.objects.filter(pk=request.pk).update(opened_by=membership.user)
    request.refresh_from_db()
    return request


def message_expires_at(request: SigningRequest):
    """When the shown message stops being signable: its own life, or the request's, if sooner."""
    if request.message_at is None:
        return request.expires_at
    return min(request.expires_at, request.message_at + get_kind(request.kind).message_life)


# --------------------------------------------------------------------------- sign


def check_signature(request: SigningRequest, *, address: str, message: str, signature: str) -> None:
    """Raise SignRefused (its own message per reason) unless `signature` is the request's signer
    signing exactly the request's current message. Changes nothing."""
    if request.status == Status.SIGNED or request.status == Status.SIGNING:
        raise SignRefused("This request was already signed: a signature is accepted once, and "
                          "nothing was changed.", "used", 409)
    if request.status != Status.PENDING:
        raise SignRefused(f"This request is {request.get_status_display().lower()}; nothing was "
                          "changed.", "closed", 409)
    if request.is_expired:
        raise SignRefused(f"This request expired at {request.expires_at:%Y-%m-%d %H:%M} UTC; ask "
                          "for a new one.", "expired", 410)
    if not request.message or timezone.now() >= message_expires_at(request):
        raise SignRefused("This message expired (a node's login phrase lives 15 minutes, a "
                          "prepared message about as long). Get a new message and sign again.",
                          "expired", 410)
    if message != request.message:
        raise SignRefused("The message was changed: sign exactly the message shown, without "
                          "editing, adding or removing anything (spaces and line ends count).",
                          "message_changed")
    if not same_zelid(address, request.zelid):
        raise SignRefused(f"Wrong address: this must be signed by {request.zelid}, but the wallet "
                          f"signed as {address or 'no address'}. Switch to that address in your "
                          "wallet.", "wrong_address")
    if not verify_message(request.message, request.zelid, signature):
        raise SignRefused("The signature is not valid for this message and address. Sign the "
                          "exact message shown with the expected address and try again.",
                          "bad_signature")


def sign(*, request: SigningRequest, actor, address: str, message: str, signature: str,
         via: str) -> str:
    """Verify, then run the request's action as `actor` (who must be its key holder). Returns the
    outcome for the page; raises SignRefused (nothing changed) or SigningFailed (request failed)."""
    try:
        if not is_key_holder(actor, request.zelid):
            raise SignRefused(f"Only the key holder of {request.zelid} can sign this request. Link "
                              "that ZelID to your account on the Wallet page first.",
                              "not_key_holder", 403)
        check_signature(request, address=address, message=message, signature=signature)
    except SignRefused as refused:
        audit.record(team=request.team, actor=actor, action="signing.refuse", target=request,
                     outcome="failure", reason=refused.code, via=via)
        raise
    # Claim it: of two concurrent signatures (a browser and a ZelCore callback) only one runs.
    if not SigningRequest.objects.filter(pk=request.pk, status=Status.PENDING).update(
            status=Status.SIGNING):
        raise SignRefused("This request was already signed: a signature is accepted once, and "
                          "nothing was changed.", "used", 409)
    request.refresh_from_db()
    try:
        outcome = get_kind(request.kind).complete(request, signature, actor)
    except SigningFailed as exc:
        _finish(request, Status.FAILED, actor, str(exc), action="signing.fail", via=via)
        raise
    except Exception:
        _finish(request, Status.FAILED, actor, "The action failed unexpectedly.",
                action="signing.fail", via=via)
        raise
    WalletIdentity.objects.filter(zelid_key=request.zelid_key).update(last_signed_at=timezone.now())
    _finish(request, Status.SIGNED, actor, outcome, action="signing.sign", via=via)
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


# --------------------------------------------------------------------------- close


def decline(*, membership: Membership, request: SigningRequest) -> None:
    require_role(membership, Role.OPERATOR)
    if not is_key_holder(membership.user, request.zelid):
        raise PermissionDenied(f"Only the key holder of {request.zelid} can decline this request.")
    _close_open(request, Status.DECLINED, membership.user, "Declined by the key holder.",
                action="signing.decline")


def cancel(*, membership: Membership, request: SigningRequest) -> None:
    """Withdraw a request: whoever prepared it, or a manager."""
    require_role(membership, Role.OPERATOR)
    if request.created_by_id != membership.user_id and not membership.can(Role.MANAGER):
        raise PermissionDenied("Only whoever prepared this request, or a manager, can withdraw it.")
    _close_open(request, Status.CANCELLED, membership.user, "Withdrawn.", action="signing.cancel")


def _close_open(request, status, actor, outcome, *, action):
    if request.status != Status.PENDING:
        raise ValidationError(f"This request is already {request.get_status_display().lower()}.")
    _finish(request, status, actor, outcome, action=action)


def _finish(request: SigningRequest, status: str, actor, outcome: str, *, action: str, **detail):
    with transaction.atomic():
        SigningRequest.objects.filter(pk=request.pk).update(
            status=status, decided_by=actor, decided_at=timezone.now(), outcome=outcome[:300],
            callback_error="")
        audit.record(team=request.team, actor=actor, action=action, target=request,
                     outcome="failure" if status == Status.FAILED else "success",
                     kind=request.kind, result=outcome[:200], **detail)
    request.refresh_from_db()


def expire_overdue(now=None) -> int:
    """Mark expired the open requests past their time (each with its audit row)."""
    now = now or timezone.now()
    overdue = list(SigningRequest.objects.filter(status__in=SigningRequest.OPEN, expires_at__lte=now)
                   .select_related("team")[:500])
    for request in overdue:
        _finish(request, Status.EXPIRED, None, "Expired before the key holder signed.",
                action="signing.expire")
    return len(overdue)


def batch_counts(team, batch: str) -> dict:
    counts = {}
    for status in SigningRequest.objects.filter(team=team, batch=batch).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts
