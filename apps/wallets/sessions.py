"""Stored node sessions and app-owner authorisations: store, use without showing, revoke, purge.

Other apps call `zelidauth_for(node, membership)` or `app_owner_zelidauth(membership, zelid)` and
hand the answer straight to `NodeClient(..., zelidauth=...)`. The value is a bearer credential:
never render it, log it, put it in an exception message, a job line or an audit row.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.access import require_role
from apps.accounts.models import Membership, Role
from apps.wallets.models import EXPIRY_WARNING, AppOwnerAuthorisation, NodeSession
from apps.wallets.zelids import zelid_key
from fluxpanel import vault
from fluxpanel.fluxos.client import FluxClientError, NodeClient, Unauthorized
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
    """The moment a FluxOS phrase was issued: its first 13 characters are milliseconds."""
    return datetime.fromtimestamp(int(login_phrase[:13]) / 1000, tz=UTC)


def _triple(zelid: str, login_phrase: str, signature: str) -> dict:
    return {"zelid": zelid, "loginPhrase": login_phrase, "signature": signature}


# --------------------------------------------------------------------------- node sessions


def store_node_session(*, team, node, zelid: str, login_phrase: str, signature: str,
                       privilege: str, expires_at: datetime, actor) -> tuple[NodeSession, dict | None]:
    """Keep a node login, sealed; returns the session and the triple it replaced (if any), so the
    caller can end the old one on the node."""
    with transaction.atomic():
        existing = NodeSession.objects.select_for_update().filter(node=node, zelid=zelid).first()
        replaced = None
        if existing is not None:
            try:
                replaced = vault.unseal(purpose=VAULT_PURPOSE, token=existing.sealed)
            except vault.VaultError:
                replaced = None  # sealed under an old key: nothing to log out with
        session, _ = NodeSession.objects.update_or_create(
            node=node, zelid=zelid,
            defaults={
                "team": team, "privilege": privilege or "user",
                "sealed": vault.seal(purpose=VAULT_PURPOSE, data=_triple(zelid, login_phrase, signature)),
                "created_by": actor, "created_at": timezone.now(), "expires_at": expires_at,
                "last_used_at": None, "warned_at": None,
            },
        )
        audit.record(team=team, actor=actor, action="node_session.store", target=session,
                     node=node.name, zelid=zelid, privilege=session.privilege,
                     expires_at=expires_at.isoformat(), renewed=existing is not None)
    return session, replaced


def _usable_sessions(node, now):
    rank = Case(When(privilege="admin", then=Value(0)), When(privilege="fluxteam", then=Value(1)),
                default=Value(2), output_field=IntegerField())
    return (NodeSession.objects.filter(node=node, expires_at__gt=now + USE_MARGIN)
            .annotate(rank=rank).order_by("rank", "-expires_at"))


def zelidauth_for(node, membership: Membership, *, privilege: str | None = None) -> str | None:
    """The `zelidauth` header for calling `node` with the team's best stored session (admin first),
    or None when there is none (or none with `privilege`).

    Needs an operator of the node's own team: another team's member gets PermissionDenied, like
    any other use of a team's object.
    """
    if membership is None or membership.team_id != node.team_id:
        raise PermissionDenied("This node belongs to another team.")
    require_role(membership, Role.OPERATOR)
    now = timezone.now()
    sessions = _usable_sessions(node, now)
    if privilege:
        sessions = sessions.filter(privilege=privilege)
    for session in sessions[:3]:
        try:
            triple = vault.unseal(purpose=VAULT_PURPOSE, token=session.sealed)
        except vault.VaultError:
            continue
        NodeSession.objects.filter(pk=session.pk).update(last_used_at=now)
        return format_zelidauth(triple["zelid"], triple["signature"], triple["loginPhrase"])
    return None


def has_session(node, *, privilege: str | None = None) -> bool:
    sessions = _usable_sessions(node, timezone.now())
    return (sessions.filter(privilege=privilege) if privilege else sessions).exists()


def logout_session(*, membership: Membership, session: NodeSession) -> str:
    """End the session on its node, then forget it here (even when the node cannot be reached,
    so the panel stops holding it). Returns what happened on the node, for the page."""
    require_role(membership, Role.OPERATOR)
    node = session.node
    try:
        triple = vault.unseal(purpose=VAULT_PURPOSE, token=session.sealed)
    except vault.VaultError:
        triple = None
    if triple is None:
        result = "could not be opened with this panel's key, so it was only forgotten here"
    else:
        result = _logout_on_node(node.base_url, triple)
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action="node_session.logout",
                     target=session, node=node.name, zelid=session.zelid, on_node=result)
        session.delete()
    return result


def _logout_on_node(base_url: str, triple: dict) -> str:
    try:
        NodeClient(base_url, zelidauth=triple, timeout=NODE_TIMEOUT).logout()
    except Unauthorized:
        return "was already ended on the node"
    except FluxClientError as exc:
        return f"could not be ended on the node ({exc.message}); it stays valid there until it expires"
    return "was ended on the node"


def end_replaced_session(base_url: str, triple: dict | None) -> str:
    """After a renewal: log the old triple out on the node, so only one stays valid."""
    return _logout_on_node(base_url, triple) if triple else "nothing to end"


def expiring_sessions(team):
    """Sessions that end within three days, or have ended: what "renew all" renews."""
    return NodeSession.objects.filter(team=team, expires_at__lte=timezone.now() + EXPIRY_WARNING)


# --------------------------------------------------------------------------- app owners


def store_app_owner_authorisation(*, team, zelid: str, login_phrase: str, signature: str,
                                  actor) -> AppOwnerAuthorisation:
    expires_at = phrase_time(login_phrase) + APP_OWNER_LIFE
    with transaction.atomic():
        authorisation, _ = AppOwnerAuthorisation.objects.update_or_create(
            team=team, zelid=zelid,
            defaults={"sealed": vault.seal(purpose=VAULT_PURPOSE, data=_triple(zelid, login_phrase, signature)),
                      "created_by": actor, "created_at": timezone.now(), "expires_at": expires_at},
        )
        audit.record(team=team, actor=actor, action="app_owner.authorise", target=authorisation,
                     zelid=zelid, expires_at=expires_at.isoformat())
    return authorisation


def app_owner_zelidauth(membership: Membership, owner_zelid: str) -> str | None:
    """The `zelidauth` header of the team's live authorisation by `owner_zelid` (accepted by every
    node for that owner's apps), or None. Operators only."""
    require_role(membership, Role.OPERATOR)
    now = timezone.now()
    # Kept only for their 2 hours: whoever looks for one also clears the lapsed ones.
    AppOwnerAuthorisation.objects.filter(expires_at__lte=now).delete()
    key = zelid_key(owner_zelid)
    for authorisation in AppOwnerAuthorisation.objects.filter(
        team=membership.team, expires_at__gt=now + USE_MARGIN
    ):
        if zelid_key(authorisation.zelid) != key:
            continue
        try:
            triple = vault.unseal(purpose=VAULT_PURPOSE, token=authorisation.sealed)
        except vault.VaultError:
            return None
        return format_zelidauth(triple["zelid"], triple["signature"], triple["loginPhrase"])
    return None


def revoke_authorisation(*, membership: Membership, authorisation: AppOwnerAuthorisation) -> None:
    """Forget it here. A self-issued phrase cannot be ended on the nodes: it lapses by itself."""
    require_role(membership, Role.OPERATOR)
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action="app_owner.revoke",
                     target=authorisation, zelid=authorisation.zelid)
        authorisation.delete()


# --------------------------------------------------------------------------- housekeeping


def purge_expired(now: datetime | None = None) -> dict:
    """Delete app-owner authorisations past their 2 hours, and node sessions long expired."""
    now = now or timezone.now()
    authorisations = AppOwnerAuthorisation.objects.filter(expires_at__lte=now).delete()[0]
    sessions = NodeSession.objects.filter(expires_at__lte=now - KEEP_EXPIRED).delete()[0]
    return {"authorisations": authorisations, "sessions": sessions}
