"""This app's two signing kinds: a login on one node, and an app-owner authorisation.

Node login (reference fluxos-api.md §1.1-1.2): the node issues a one-time phrase (15 minutes, that
node only), the key holder signs it, the panel posts it to the node's /id/verifylogin and keeps the
resulting 14-day session sealed. App owner (§1.4): a phrase the panel issues itself, signed by the
owner, is accepted by every node for that owner's apps for 2 hours after its timestamp.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from apps.wallets.kinds import SigningFailed, signing_kind
from apps.wallets.sessions import (
    SESSION_LIFE,
    end_replaced_session,
    phrase_time,
    store_app_owner_authorisation,
    store_node_session,
)
from fluxpanel.fluxos.client import FluxClientError, FluxError, NodeClient
from fluxpanel.fluxos.identity import make_login_phrase

NODE_TIMEOUT = (3.05, 15.0)


@signing_kind("node_login", label="Log in to a node", life=timedelta(hours=24),
              message_life=timedelta(minutes=14))
class NodeLogin:
    @staticmethod
    def prepare(request) -> str:
        node = request.node
        client = NodeClient(node.base_url, timeout=NODE_TIMEOUT)
        try:
            try:
                return client.login_phrase()
            except FluxError:
                # An unhealthy node refuses /id/loginphrase; FluxOS's own UI falls back to this.
                return client.emergency_phrase()
        except FluxClientError as exc:
            raise SigningFailed(f"{node.name} gave no login phrase: {exc.message}") from None

    @staticmethod
    def complete(request, signature: str, actor) -> str:
        node = request.node
        client = NodeClient(node.base_url, timeout=NODE_TIMEOUT)
        try:
            data = client.verify_login(request.zelid, request.message, signature)
        except FluxClientError as exc:
            # `from None`: nothing of the request (its signature) rides along in a traceback.
            raise SigningFailed(f"{node.name} refused the login: {exc.message}") from None
        data = data if isinstance(data, dict) else {}
        privilege = str(data.get("privilage") or data.get("privilege") or "user")  # sic, FluxOS
        expires_at = _expiry(data.get("expireAt"), request.message)
        session, replaced = store_node_session(
            team=request.team, node=node, zelid=request.zelid, login_phrase=request.message,
            signature=signature, privilege=privilege, expires_at=expires_at, actor=actor,
        )
        if replaced:
            end_replaced_session(node.base_url, replaced)
        return (f"Logged in on {node.name} as {privilege}; the session is valid until "
                f"{expires_at:%Y-%m-%d %H:%M} UTC.")


def _expiry(reported, login_phrase: str) -> datetime:
    """The node's `expireAt` when it reads as a time, else FluxOS's rule (phrase time + 14 days)."""
    if isinstance(reported, str):
        try:
            parsed = datetime.fromisoformat(reported.replace("Z", "+00:00"))
            if parsed.tzinfo is not None:
                return parsed
        except ValueError:
            pass
    return phrase_time(login_phrase) + SESSION_LIFE


@signing_kind("app_owner", label="Authorise app-owner operations", life=timedelta(hours=24),
              message_life=timedelta(minutes=15))
class AppOwner:
    @staticmethod
    def prepare(request) -> str:
        return make_login_phrase(int(time.time() * 1000))

    @staticmethod
    def complete(request, signature: str, actor) -> str:
        authorisation = store_app_owner_authorisation(
            team=request.team, zelid=request.zelid, login_phrase=request.message,
            signature=signature, actor=actor,
        )
        return (f"Authorised app-owner operations of {request.zelid} on every node until "
                f"{authorisation.expires_at:%H:%M} UTC.")
