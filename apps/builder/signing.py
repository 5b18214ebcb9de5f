"""Signing kinds `app_register` and `app_update` (apps.wallets.kinds) for a draft (issue 14).

The request's payload is `{"draft": <id>}`. `prepare` re-checks the draft with the core at the
network's current height, re-computes its price and refuses when it changed since the draft was
sent for signing (the draft goes back to draft: review it again), then builds FluxOS's exact message
`type + 1 + JSON.stringify(formatted) + timestamp` and keeps type/timestamp/spec on the draft.
`complete` verifies the signature exactly as FluxOS will (for an update: against the owner stored
on the network, never the draft's owner field) and hands it to apps.builder.submit.start_submit.
The signature is never stored here.

FluxOS refuses an app message whose timestamp is over 1 hour old ("Message timestamp is over 1
hour old, …", registryManager.registerAppGlobalyApi / advancedWorkflows): a prepared message may be
signed for MESSAGE_LIFE, which leaves SUBMIT_MARGIN for the submit job.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from apps.wallets.kinds import SigningFailed, signing_kind
from fluxpanel.fluxos.specs import (
    check_spec,
    format_spec,
    message_to_sign,
    verify_register_signature,
    verify_update_signature,
)
from fluxpanel.fluxos.specs.errors import SpecError

REGISTER, UPDATE = "fluxappregister", "fluxappupdate"
MESSAGE_VERSION = 1
FLUXOS_MAX_AGE = timedelta(hours=1)  # FluxOS: "Message timestamp is over 1 hour old"
SUBMIT_MARGIN = timedelta(minutes=15)
MESSAGE_LIFE = FLUXOS_MAX_AGE - SUBMIT_MARGIN
CENT = Decimal("0.01")


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class NetworkNow:
    height: int
    flux_table: object
    usd_table: object
    source: str


def network_now(team) -> NetworkNow:
    """The network's height and price tables from the team's first source that answers."""
    from apps.deployments.costs import price_tables
    from apps.deployments.sources import team_sources
    from fluxpanel.fluxos.client import FluxClientError

    problems = []
    for source in team_sources(team):
        client = source.client()
        try:
            height = client.block_count()
            information = client.deployment_information()
        except FluxClientError as exc:
            problems.append(f"{source.label}: {exc.message}")
            continue
        flux_table, usd_table = price_tables(information)
        return NetworkNow(height, flux_table, usd_table, source.label)
    if not problems:
        raise SigningFailed("No source to ask the network's height: register a confirmed node or "
                            "set a gateway URL.")
    raise SigningFailed("No source answered the network's height: " + "; ".join(problems))


def message_type(draft) -> str:
    return REGISTER if draft.kind == draft.Kind.NEW else UPDATE


def signer_zelid(draft) -> str:
    """Who must sign: the spec's owner for a register; the owner stored on the network (the
    team app's) for an update, renewal or cancellation — never the owner typed in the draft."""
    if draft.kind == draft.Kind.NEW:
        owner = draft.spec.get("owner") if isinstance(draft.spec, dict) else None
        return owner if isinstance(owner, str) else ""
    return draft.app.owner if draft.app is not None else ""


def existing_app(draft) -> dict | None:
    if draft.kind == draft.Kind.NEW or not isinstance(draft.base_spec, dict):
        return None
    return {**draft.base_spec, "height": draft.base_height}


def checked(draft, height: int) -> dict:
    """The formatted spec, or SpecError with FluxOS's text."""
    return check_spec(draft.spec, height)


def draft_price(draft, formatted: dict, network: NetworkNow) -> tuple[Decimal | None, Decimal | None]:
    """(FLUX, USD) FluxOS asks for this message at the network's height (None when unknown)."""
    from apps.deployments.costs import _money
    from fluxpanel.fluxos.pricing import PriceTable, fiat_and_flux_price

    if network.flux_table is None:
        return None, None
    try:
        price = fiat_and_flux_price(formatted, network.height, None, existing_app(draft),
                                    usd_table=network.usd_table or PriceTable.usd_default(),
                                    flux_table=network.flux_table)
    except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError):
        return None, None
    if not isinstance(price, dict) or "error" in price:
        return None, None
    return _money(price.get("flux")), _money(price.get("usd"))


def _draft_of(request):
    from apps.builder.models import AppDraft

    draft_id = (request.payload or {}).get("draft")
    draft = AppDraft.objects.select_related("app").filter(pk=draft_id, team=request.team).first()
    if draft is None:
        raise SigningFailed("The draft of this request no longer exists.")
    return draft


def _back_to_draft(draft, reason: str) -> None:
    from apps.builder.actions import set_status

    if draft.status == draft.Status.AWAITING_SIGNATURE:
        set_status(draft, draft.Status.DRAFT, reason=reason, signing_request=None)


def _same(a: Decimal | None, b: Decimal | None) -> bool:
    return a == b or (a is not None and b is not None and a.quantize(CENT) == b.quantize(CENT))


class _AppMessage:
    detail_template = "builder/_sign_detail.html"

    @staticmethod
    def prepare(request) -> str:
        from apps.builder.sign_actions import store_message

        draft = _draft_of(request)
        if draft.status != draft.Status.AWAITING_SIGNATURE or draft.signing_request_id != request.pk:
            raise SigningFailed("The draft is no longer waiting for this signature.")
        network = network_now(request.team)
        try:
            formatted = checked(draft, network.height)
        except SpecError as exc:
            raise SigningFailed(str(exc)) from None
        flux, usd = draft_price(draft, formatted, network)
        if not (_same(flux, draft.price_flux) and _same(usd, draft.price_usd)):
            raise SigningFailed(f"The price changed from {draft.price_flux} to {flux} FLUX "
                                f"({draft.price_usd} to {usd} USD): review it again.")
        timestamp = _now_ms()
        kind = message_type(draft)
        store_message(draft, message_type=kind, timestamp=timestamp, formatted=formatted)
        return message_to_sign(kind, formatted, timestamp, MESSAGE_VERSION)

    @staticmethod
    def complete(request, signature: str, actor) -> str:
        from apps.builder import submit

        draft = _draft_of(request)
        verify(draft, signature)
        job = submit.start_submit(draft=draft, signature=signature, actor=actor)
        return f"Signed; submitting {draft.name or 'the app'} to the network (job #{job.pk})."

    @staticmethod
    def closed(request, status, outcome) -> None:
        from apps.builder.models import AppDraft
        from apps.wallets.models import SigningRequest

        draft = AppDraft.objects.filter(pk=(request.payload or {}).get("draft"), team=request.team,
                                        signing_request=request).first()
        if draft is not None:
            label = SigningRequest.Status(status).label.lower()
            _back_to_draft(draft, f"Signing request {label}: {outcome}")

    @staticmethod
    def detail_context(request) -> dict:
        from apps.builder.models import AppDraft

        draft = AppDraft.objects.select_related("app").filter(
            pk=(request.payload or {}).get("draft"), team=request.team).first()
        return diff_context(draft) if draft is not None else {}


def diff_context(draft) -> dict:
    """Context for builder/_diff.html, or the canonical JSON when the diff is not built."""
    try:
        from apps.builder.diff import draft_diff
    except ImportError:
        draft_diff = None
    context = {"draft": draft, "has_diff": draft_diff is not None}
    if draft_diff is not None:
        context.update(draft_diff(draft))
    else:
        import json

        context["canonical_json"] = json.dumps(draft.message_spec or draft.spec, indent=2,
                                               ensure_ascii=False)
    return context


def verify(draft, signature: str) -> None:
    """Exactly FluxOS's check of the signed message, before anything is sent."""
    if draft.message_timestamp is None or draft.message_spec is None:
        raise SigningFailed("This request has no message for its draft any more.")
    age_ms = _now_ms() - draft.message_timestamp
    if age_ms > (FLUXOS_MAX_AGE - timedelta(minutes=5)).total_seconds() * 1000:
        raise SigningFailed("This message is too old for FluxOS (it refuses messages over 1 hour "
                            "old): send the draft for signing again.")
    # PostgreSQL's jsonb does not keep key order: the formatter (idempotent) restores FluxOS's.
    signed_spec = format_spec(draft.message_spec)
    try:
        if draft.message_type == REGISTER:
            verify_register_signature(REGISTER, MESSAGE_VERSION, signed_spec,
                                      draft.message_timestamp, signature)
        else:
            verify_update_signature(UPDATE, MESSAGE_VERSION, signed_spec,
                                    draft.message_timestamp, signature, signer_zelid(draft),
                                    draft.base_height or 0, draft.base_spec)
    except SpecError as exc:
        raise SigningFailed(str(exc)) from None


@signing_kind("app_register", label="Register an app", life=timedelta(hours=24),
              message_life=MESSAGE_LIFE)
class AppRegister(_AppMessage):
    pass


@signing_kind("app_update", label="Update an app", life=timedelta(hours=24),
              message_life=MESSAGE_LIFE)
class AppUpdate(_AppMessage):
    pass


