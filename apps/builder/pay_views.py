"""Pay tab: what the owner pays, where and with which memo, and the watcher's state. The panel
never pays: it shows the deployment address, the exact amount, the memo (the message hash), a QR
code of the ZelCore pay link, an SSP pay request (static/js/builder-pay.js), and the watcher's
state, polled by htmx (`pay_status`) with the time left in the temporary message's hour.

The deployment address comes from `/apps/deploymentinformation` of the team's sources (one client,
bounded), validated as a Flux t1/t3 address (base58check, Flux version bytes) and cached briefly:
FluxOS changes it with a chain upgrade, never between two page loads.
"""
from __future__ import annotations

from decimal import ROUND_UP, Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.access import refusal_text, team_object_or_404, team_view
from apps.accounts.models import Role
from apps.builder import test_install
from apps.builder.models import AppDraft
from apps.builder.watch import WARN_BEFORE, payment_deadline
from fluxpanel.htmx import stop_polling

ADDRESS_CACHE_S = 60
INFO_TIMEOUT = (3.05, 5.0)
INFO_DEADLINE_S = 8.0
INFO_MAX_BYTES = 256 * 1024  # the price table and port rules: a few kB
FLUX_VERSIONS = (b"\x1c\xb8", b"\x1c\xbd")  # t1 (P2PKH), t3 (P2SH)
PAY_STATUSES = (AppDraft.Status.AWAITING_PAYMENT, AppDraft.Status.LIVE)
TEST_INSTALL_LINES = 200  # the test install's output shown on the tab (the job page has all of it)


def is_flux_address(text) -> bool:
    from fluxpanel.fluxos.crypto import base58check_decode

    if not isinstance(text, str) or not 30 <= len(text) <= 40 or text[:2] not in ("t1", "t3"):
        return False
    payload = base58check_decode(text)
    return payload is not None and len(payload) == 22 and payload[:2] in FLUX_VERSIONS


def fluxos_deployment_address(height: int) -> str:
    """The address FluxOS's own config sends app payments to at `height`."""
    from fluxpanel.fluxos.fluxconfig import DEPLOYMENT_ADDRESSES

    return [row["address"] for row in DEPLOYMENT_ADDRESSES if row["height"] <= height][-1]


def deployment_address(team) -> tuple[str, str]:
    """(address, "") from the team's sources, or ("", why not).

    Money goes to this address, so a node's word alone is not enough: the answer must be the
    address FluxOS's config has for the height, or (FluxOS moved to a new address since) two
    sources must answer the same one. A node answering another address is named in the reason.
    """
    from apps.deployments.sources import team_sources
    from apps.pricing.tables import price_context
    from fluxpanel.fluxos.client import FluxClientError

    key = f"builder:deployment-address:{team.pk}"
    cached = cache.get(key)
    if cached:
        return cached, ""
    expected = fluxos_deployment_address(price_context(team).height)
    reasons, unknown = [], {}
    for source in team_sources(team):
        client = source.client(timeout=INFO_TIMEOUT, deadline_s=INFO_DEADLINE_S, max_body=INFO_MAX_BYTES)
        try:
            info = client.deployment_information()
        except FluxClientError as exc:
            reasons.append(f"{source.label}: {exc.message[:200]}")
            continue
        address = info.get("address") if isinstance(info, dict) else None
        if not is_flux_address(address):
            reasons.append(f"{source.label}: its deployment address is not a Flux address")
        elif address == expected or address in unknown:
            cache.set(key, address, ADDRESS_CACHE_S)
            return address, ""
        else:
            unknown[address] = source.label
            reasons.append(f"{source.label}: it answered {address}, not FluxOS's {expected}, and no "
                           "other source confirms it")
    if not reasons:
        return "", "No source to ask: register a confirmed node or set a gateway URL."
    return "", "No valid deployment address: " + "; ".join(reasons)


def flux_amount(price) -> str:
    """The amount as FluxOS prices it: FLUX with 2 decimals (rounded up, never under the price)."""
    if price is None:
        return ""
    return str(Decimal(price).quantize(Decimal("0.01"), rounding=ROUND_UP))


def zelcore_pay_uri(address: str, amount: str, memo: str) -> str:
    return "zel:?" + urlencode({"action": "pay", "coin": "zelcash", "address": address, "amount": amount,
                                "message": memo})


def payment_qr(uri: str) -> str:
    from apps.wallets.handoff import qr_svg

    return qr_svg(uri).replace("QR code of the ZelCore link", "QR code of the payment link", 1)


def status_context(draft: AppDraft) -> dict:
    deadline = payment_deadline(draft) if draft.status == AppDraft.Status.AWAITING_PAYMENT else None
    left = (deadline - timezone.now()) if deadline else None
    job = draft.watch_job
    last_line = job.lines.order_by("-seq").values_list("text", flat=True).first() if job else None
    seconds = max(0, int(left.total_seconds())) if left is not None else None
    return {
        "watch_job": job, "last_line": last_line, "deadline": deadline,
        "seconds_left": seconds, "time_left": f"{seconds // 60} min {seconds % 60:02d} s" if seconds is not None else "",
        "hurry": left is not None and left <= WARN_BEFORE,
        "done": draft.status not in (AppDraft.Status.AWAITING_PAYMENT, AppDraft.Status.SUBMITTED),
    }


def pay_tab(request, draft):
    context = {"payable": draft.status == AppDraft.Status.AWAITING_PAYMENT and bool(draft.message_hash)}
    if context["payable"]:
        address, problem = (draft.payment_address, "") if is_flux_address(draft.payment_address) else \
            deployment_address(draft.team)
        amount = flux_amount(draft.price_flux)
        context.update(address=address, address_problem=problem, amount=amount, memo=draft.message_hash)
        if address and amount:
            uri = zelcore_pay_uri(address, amount, draft.message_hash)
            context.update(pay_uri=uri, qr=payment_qr(uri))
    context.update(status_context(draft))
    context.update(test_install_context(request, draft))
    return "builder/_tab_pay.html", context


def test_install_context(request, draft) -> dict:
    """The test install part of the Pay tab (a new app awaiting payment only): the node chooser for
    operators and the latest test install's state and output (the Jobs page's partials)."""
    if not test_install.offers_test_install(draft):
        return {"test_install": False}
    job = test_install.latest_job(draft)
    context = {"test_install": True, "test_job": job,
               "test_choices": test_install.node_choices(draft) if request.membership.can(Role.OPERATOR) else []}
    if job is not None:
        lines = list(job.lines.order_by("-seq")[:TEST_INSTALL_LINES])[::-1]
        context.update(test_lines=lines, test_cursor=lines[-1].seq if lines else 0)
    return context


@team_view(Role.OPERATOR)
@require_POST
def pay_test_install(request, pk):
    draft = team_object_or_404(AppDraft, request.team, pk=pk)
    try:
        job = test_install.start_test_install(membership=request.membership, draft=draft,
                                              node_id=request.POST.get("node", ""))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, f"Test install started (job #{job.pk}): its output follows below.")
    return redirect(reverse("builder:draft", args=[draft.pk]) + "?tab=pay")


@team_view()
def pay_status(request, pk):
    draft = team_object_or_404(AppDraft.objects.select_related("watch_job", "app"), request.team, pk=pk)
    context = {"draft": draft, **status_context(draft)}
    response = render(request, "builder/_pay_status.html", context)
    return stop_polling(response) if context["done"] else response
