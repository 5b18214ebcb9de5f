"""Stored node sessions and app-owner authorisations: read them, use them without showing them.

Other apps call `zelidauth_for(node, membership)` or `app_owner_zelidauth(membership, zelid)` and
hand the answer straight to `node_client(..., zelidauth=...)`. The value is a bearer credential:
never render it, log it, put it in an exception message, a job line or an audit row. Storing,
logging out, revoking and purging them are actions (apps.wallets.actions).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from apps.accounts.access import require_role
from apps.accounts.models import Membership, Role
from apps.nodes.clients import node_client
from apps.wallets.models import EXPIRY_WARNING, AppOwnerAuthorisation, NodeSession
from apps.wallets.zelids import zelid_key
from fluxpanel import vault
from fluxpanel.fluxos.client import FluxClientError, Unauthorized
from fluxpanel.fluxos.identity import format_zelidauth

SESSION_LIFE = timedelta(days=14)  # FluxOS: loggedusers expire 14 days after the phrase's time
APP_OWNER_LIFE = timedelta(hours=2)  # FluxOS: app-owner phrases are accepted for 2 hours
# A session this close to its end is not handed out: the call it is for must still find it valid.
USE_MARGIN = timedelta(minutes=2)
# Expired sessions stay listed (with "renew") for a while, then their sealed triple is deleted.
KEEP_EXPIRED = timedelta(days=30)
NODE_TIMEOUT = (3.05, 10.0)

# Session triples and owner authorisations get their own vault key (see fluxpanel.vault).
VAULT_PURPOSE = "wallets.sessions"


def phrase_time(login_phrase: str) -> datetime:
    """The moment a FluxOS phrase was issued: its first 13 characters are milliseconds (the
    phrase was checked for that shape before anything was signed: apps.wallets.phrases)."""
    return datetime.fromtimestamp(int(login_phrase[:13]) / 1000, tz=UTC)


def triple(zelid: str, login_phrase: str, signature: str) -> dict:
    return {"zelid": zelid, "loginPhrase": login_phrase, "signature": signature}


def unseal(sealed: str) -> dict | None:
    """The triple, or None when it was sealed under another key (nothing usable left)."""
    try:
        return vault.unseal(purpose=VAULT_PURPOSE, token=sealed)
    except vault.VaultError:
        return None


def seal(data: dict) -> str:
    return vault.seal(purpose=VAULT_PURPOSE, data=data)


# --------------------------------------------------------------------------- node sessions


def _usable_sessions(node, now):
    rank = Case(When(privilege="admin", then=Value(0)), When(privilege="fluxteam", then=Value(1)),
                default=Value(2), output_field=IntegerField())
    return (NodeSession.objects.filter(node=node, expires_at__gt=now + USE_MARGIN)
            .annotate(rank=rank).order_by("rank", "-expires_at"))


def zelidauth_for(node, membership: Membership, *, privilege: str | None = None,
                  read_only: bool = False) -> str | None:
    """The `zelidauth` header for calling `node` with the team's best stored session (admin first),
    or None when there is none (or none with `privilege`).

    Needs an operator of the node's own team (another team's member gets PermissionDenied, like
    any other use of a team's object); `read_only` calls (logs, stats: what viewers may see) need a
    viewer. The header itself never leaves the server either way.
    """
    from apps.wallets.actions import note_session_used

    if membership is None or membership.team_id != node.team_id:
        raise PermissionDenied("This node belongs to another team.")
    require_role(membership, Role.VIEWER if read_only else Role.OPERATOR)
    now = timezone.now()
    sessions = _usable_sessions(node, now)
    if privilege:
        sessions = sessions.filter(privilege=privilege)
    for session in sessions[:3]:
        opened = unseal(session.sealed)
        if opened is None:
            continue
        note_session_used(session, now)
        return format_zelidauth(opened["zelid"], opened["signature"], opened["loginPhrase"])
    return None


def node_page_context(node, membership: Membership) -> dict:
    """What `templates/wallets/_node_sessions.html` needs on a node's page (its stored sessions
    and a way to log in): the node page includes that partial with this context."""
    return {"node": node, "sessions": NodeSession.objects.filter(node=node),
            "is_operator": membership.can(Role.OPERATOR)}


def logout_on_node(base_url: str, opened: dict) -> str:
    """End a session on its node; what happened, for the page (never the triple)."""
    try:
        node_client(base_url, zelidauth=opened, timeout=NODE_TIMEOUT).logout()
    except Unauthorized:
        return "was already ended on the node"
    except FluxClientError as exc:
        return f"could not be ended on the node ({exc.message}); it stays valid there until it expires"
    return "was ended on the node"


def expiring_sessions(team):
    """Sessions that end within three days, or have ended: what "renew all" renews."""
    return NodeSession.objects.filter(team=team, expires_at__lte=timezone.now() + EXPIRY_WARNING)


# --------------------------------------------------------------------------- app owners


def app_owner_zelidauth(membership: Membership, owner_zelid: str, *, read_only: bool = False) -> str | None:
    """The `zelidauth` header of the team's live authorisation by `owner_zelid` (accepted by every
    node for that owner's apps), or None. Operators only, viewers for `read_only` calls (see
    zelidauth_for). Lapsed ones are purged by housekeeping."""
    require_role(membership, Role.VIEWER if read_only else Role.OPERATOR)
    key = zelid_key(owner_zelid)
    for authorisation in AppOwnerAuthorisation.objects.filter(
        team=membership.team, expires_at__gt=timezone.now() + USE_MARGIN
    ):
        if zelid_key(authorisation.zelid) != key:
            continue
        opened = unseal(authorisation.sealed)
        if opened is None:
            return None
        return format_zelidauth(opened["zelid"], opened["signature"], opened["loginPhrase"])
    return None
