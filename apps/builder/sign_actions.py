"""The builder's signing writes: send a draft to its owner's key holder, and keep the message.

`send_for_signing` checks the draft with the core at the network's height, records the price the
page showed, creates the signing request (apps.wallets.actions.create_request: its own role check
and audit row) plus, when the team holds no app-owner authorisation for that ZelID (needed to
submit), an `app_owner` request in the same batch, and moves the draft to awaiting_signature.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts import audit
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.builder.actions import require, set_status
from apps.builder.models import AppDraft
from apps.builder.signing import checked, draft_price, message_type, network_now, signer_zelid
from apps.wallets import actions as wallet_actions
from apps.wallets import signing as wallet_signing
from apps.wallets.kinds import SigningFailed
from apps.wallets.node_sessions import app_owner_zelidauth
from fluxpanel.fluxos.specs.errors import SpecError

KIND_OF = {"fluxappregister": "app_register", "fluxappupdate": "app_update"}


def needs_owner_authorisation(membership: Membership, zelid: str) -> bool:
    """No live app-owner authorisation by `zelid`, and no pending app_owner request for it."""
    from django.utils import timezone

    from apps.wallets.models import SigningRequest
    from apps.wallets.zelids import zelid_key

    if app_owner_zelidauth(membership, zelid) is not None:
        return False
    return not SigningRequest.objects.filter(
        team=membership.team, kind="app_owner", zelid_key=zelid_key(zelid),
        status=SigningRequest.Status.PENDING, expires_at__gt=timezone.now()).exists()


def send_for_signing(*, membership: Membership, draft: AppDraft):
    """Returns the app message's SigningRequest; ValidationError (with FluxOS's text) otherwise."""
    require(membership, Role.OPERATOR, "send_for_signing")
    if draft.status not in AppDraft.EDITABLE:
        raise ValidationError(f"This draft is {draft.get_status_display().lower()}: it cannot be "
                              "sent for signing.")
    zelid = signer_zelid(draft)
    if not zelid:
        raise ValidationError("The spec has no owner ZelID to sign it.")
    try:
        network = network_now(membership.team)
    except SigningFailed as exc:
        raise ValidationError(str(exc)) from None
    try:
        formatted = checked(draft, network.height)
    except SpecError as exc:
        raise ValidationError(str(exc)) from None
    flux, usd = draft_price(draft, formatted, network)
    kind = KIND_OF[message_type(draft)]
    batch = wallet_signing.new_batch()
    with transaction.atomic():
        current = AppDraft.objects.select_for_update().get(pk=draft.pk, team=membership.team)
        if current.status not in AppDraft.EDITABLE or current.revision != draft.revision:
            raise ValidationError("The draft changed meanwhile: review it again.")
        # The authorisation first: the key holder's queue runs oldest first, and the submit job
        # starts as soon as the app message is signed, so it must find the authorisation there.
        owner_request = None
        if needs_owner_authorisation(membership, zelid):
            owner_request = wallet_actions.create_request(
                membership=membership, kind="app_owner", zelid=zelid, batch=batch,
                purpose=f"Authorise the panel to submit the app {current.name or '(unnamed)'}.")
        signing_request = wallet_actions.create_request(
            membership=membership, kind=kind, zelid=zelid, batch=batch, payload={"draft": current.pk},
            purpose=f"{'Register' if kind == 'app_register' else 'Update'} the app "
                    f"{current.name or '(unnamed)'}"
                    + (f" at {flux} FLUX." if flux is not None else " (price unknown: no price table)."))
        set_status(current, AppDraft.Status.AWAITING_SIGNATURE, actor=membership.user,
                   text=f"Sent for signing by {zelid} at {flux} FLUX ({usd} USD)",
                   signing_request=signing_request, price_flux=flux, price_usd=usd,
                   message_type="", message_timestamp=None, message_spec=None)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.BUILDER_SIGN_REQUEST,
                     target=current, zelid=zelid, kind=kind, request=signing_request.pk,
                     owner_request=owner_request.pk if owner_request else None,
                     price_flux=str(flux), price_usd=str(usd), height=network.height)
    draft.refresh_from_db()
    return signing_request


def store_message(draft: AppDraft, *, message_type: str, timestamp: int, formatted: dict) -> None:
    """Keep the exact message's parts on the draft (called by the kinds' prepare)."""
    AppDraft.objects.filter(pk=draft.pk).update(message_type=message_type, message_timestamp=timestamp,
                                               message_spec=formatted)
    draft.message_type, draft.message_timestamp, draft.message_spec = message_type, timestamp, formatted
