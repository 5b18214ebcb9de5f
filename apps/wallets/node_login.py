"""This app's two signing kinds: a login on one node, and an app-owner authorisation.

Node login (reference fluxos-api.md §1.1-1.2): the node issues a one-time phrase (15 minutes, that
node only), the key holder signs it, the panel posts it to the node's /id/verifylogin and keeps the
resulting 14-day session sealed. The node is untrusted: what it gives as a phrase is shown to the
key holder only when it is of FluxOS's own shape and fresh (apps.wallets.phrases), so a node cannot
get any other message signed (such as the panel's own sign-in challenge); what it answers after
the signature was sent (`privilage`, `expireAt`) is only used when it makes sense.

App owner (§1.4): a phrase the panel issues itself, signed by the owner, is accepted by every node
for that owner's apps for 2 hours after its timestamp.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from apps.nodes.clients import node_client
from apps.wallets.kinds import SigningFailed, signing_kind
from apps.wallets.node_sessions import SESSION_LIFE, logout_on_node, phrase_time
from apps.wallets.phrases import NotANodePhrase, node_phrase
from fluxpanel.fluxos.client import FluxClientError, FluxError
from fluxpanel.fluxos.identity import make_login_phrase

NODE_TIMEOUT = (3.05, 15.0)
PRIVILEGES = ("admin", "fluxteam", "user")  # what verifyLogin reports (as `privilage`)
# A node's `expireAt` a little after FluxOS's own rule is clock skew; beyond it, it is not used.
EXPIRY_SLACK = timedelta(minutes=5)


def _now_ms() -> int:
    return int(time.time() * 1000)


@signing_kind("node_login", label="Log in to a node", life=timedelta(hours=24),
              message_life=timedelta(minutes=14))
class NodeLogin:
    @staticmethod
    def prepare(request) -> str:
        node = request.node
        client = node_client(node.base_url, timeout=NODE_TIMEOUT)
        try:
            try:
                phrase = client.login_phrase()
            except FluxError:
                # An unhealthy node refuses /id/loginphrase; FluxOS's own UI falls back to this.
                phrase = client.emergency_phrase()
        except FluxClientError as exc:
            raise SigningFailed(f"{node.name} gave no login phrase: {exc.message}") from None
        try:
            return node_phrase(phrase, _now_ms())
        except NotANodePhrase as exc:
            # Never shown, so never signed: a node's text could be anything, even another
            # site's (or this panel's) sign-in message.
            raise SigningFailed(f"{node.name} gave a login phrase the panel refuses to show for "
                                f"signing: {exc}. Check the node's clock and software.") from None

    @staticmethod
    def complete(request, signature: str, actor) -> str:
        from apps.wallets.actions import store_node_session

        node = request.node
        client = node_client(node.base_url, timeout=NODE_TIMEOUT)
        try:
            data = client.verify_login(request.zelid, request.message, signature)
        except FluxClientError as exc:
            # `from None`: nothing of the request (its signature) rides along in a traceback.
            raise SigningFailed(f"{node.name} refused the login: {exc.message}") from None
        data = data if isinstance(data, dict) else {}
        reported = data.get("privilage") or data.get("privilege")  # sic, FluxOS
        privilege = reported if reported in PRIVILEGES else "user"
        expires_at = session_expiry(data.get("expireAt"), request.message)
        session, replaced = store_node_session(
            team=request.team, node=node, zelid=request.zelid, login_phrase=request.message,
            signature=signature, privilege=privilege, expires_at=expires_at, actor=actor,
        )
        if replaced:
            logout_on_node(node.base_url, replaced)  # only one session per node and ZelID stays valid
        return (f"Logged in on {node.name} as {privilege}; the session is valid until "
                f"{expires_at:%Y-%m-%d %H:%M} UTC.")


def session_expiry(reported, login_phrase: str, *, now: datetime | None = None) -> datetime:
    """When the session ends: FluxOS's rule (phrase time + 14 days), or the node's `expireAt`
    when that is an ISO time (or milliseconds) in the future and not beyond the rule. Anything
    else a node sends (text, a huge number, a negative one, a time past) falls back to the rule."""
    rule = phrase_time(login_phrase) + SESSION_LIFE
    now = now or datetime.now(tz=UTC)
    parsed = _parse_time(reported)
    if parsed is None or not now < parsed <= rule + EXPIRY_SLACK:
        return rule
    return parsed


def _parse_time(value) -> datetime | None:
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        if isinstance(value, str) and len(value) <= 40:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo is not None else None
    except (ValueError, OverflowError, OSError):
        pass
    return None


@signing_kind("app_owner", label="Authorise app-owner operations", life=timedelta(hours=24),
              message_life=timedelta(minutes=15))
class AppOwner:
    @staticmethod
    def prepare(request) -> str:
        return make_login_phrase(_now_ms())

    @staticmethod
    def complete(request, signature: str, actor) -> str:
        from apps.wallets.actions import store_app_owner_authorisation

        authorisation = store_app_owner_authorisation(
            team=request.team, zelid=request.zelid, login_phrase=request.message,
            signature=signature, actor=actor,
        )
        return (f"Authorised app-owner operations of {request.zelid} on every node until "
                f"{authorisation.expires_at:%H:%M} UTC.")
