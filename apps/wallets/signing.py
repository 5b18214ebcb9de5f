"""Signing requests, read side: who holds which ZelID, what waits for them, which nodes a ZelID
owns, and whether a signature is the one a request needs.

Preparing, opening, signing, declining, withdrawing and expiring requests are actions
(apps.wallets.actions), each with its audit row. A refused signature raises SignRefused before
anything changes.
"""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from django.utils import timezone

from apps.accounts.models import Membership
from apps.nodes.clients import node_client
from apps.nodes.models import Node, NodeSnapshot
from apps.wallets.kinds import SignRefused, get_kind
from apps.wallets.models import SigningRequest, WalletIdentity
from apps.wallets.zelids import same_zelid, zelid_key
from fluxpanel.fluxos.client import FluxClientError
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


def new_batch() -> str:
    return uuid.uuid4().hex


# --------------------------------------------------------------------------- nodes and owners


def spelling_on_node(node: Node, zelid: str) -> str:
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
        return str(node_client(node.base_url, timeout=(2, 5)).node_zelid() or "")[:64]
    except FluxClientError:
        return ""


# --------------------------------------------------------------------------- messages and signatures


def message_expires_at(request: SigningRequest):
    """When the shown message stops being signable: its own life, or the request's, if sooner."""
    if request.message_at is None:
        return request.expires_at
    return min(request.expires_at, request.message_at + get_kind(request.kind).message_life)


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


def batch_counts(team, batch: str) -> dict:
    counts = {}
    for status in SigningRequest.objects.filter(team=team, batch=batch).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts
