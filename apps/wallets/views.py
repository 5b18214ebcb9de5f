"""Wallet pages: identities and key holders, sign-in page, node sessions, signing requests.

The JSON endpoints the signing component talks to are in api.py.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from apps.accounts.access import refusal_text, team_object_or_404, team_view
from apps.accounts.models import Membership, Role
from apps.accounts.navigation import safe_next_url
from apps.wallets import actions, signing
from apps.wallets import node_sessions as sessions
from apps.wallets.forms import AppOwnerForm, PrepareLoginForm
from apps.wallets.kinds import get_kind
from apps.wallets.middleware import guards_secrets_in_form
from apps.wallets.models import AppOwnerAuthorisation, NodeSession, SigningRequest, WalletIdentity

HISTORY = 50


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _banner(team) -> dict:
    expiring = list(sessions.expiring_sessions(team).select_related("node").order_by("expires_at"))
    return {"expiring": expiring, "expired_count": sum(1 for s in expiring if s.is_expired)}


# --------------------------------------------------------------------------- identities


@team_view()
def home(request):
    identities = WalletIdentity.objects.filter(user=request.user)
    member_ids = Membership.objects.filter(team=request.team).values_list("user_id", flat=True)
    key_holders = (WalletIdentity.objects.filter(user_id__in=member_ids)
                   .select_related("user").order_by("user__username", "zelid"))
    waiting = signing.signable(request.membership).count() if request.membership.can(Role.OPERATOR) else 0
    return render(request, "wallets/home.html", {
        "identities": identities, "key_holders": key_holders, "waiting": waiting,
        **_banner(request.team),
    })


@team_view()
def bind(request):
    return render(request, "wallets/bind.html")


@team_view()
@require_POST
def identity_remove(request, pk):
    # A user's own ZelID, not a team object: someone else's is a 404 like another team's object.
    identity = actions.unlink_identity(user=request.user, team=request.team, identity_id=pk)
    if identity is None:
        raise Http404("No such ZelID on your account.")
    messages.success(request, f"{identity.zelid} is no longer linked to your account.")
    return redirect("wallets:home")


def signin(request):
    """Sign in with a wallet: the panel's own challenge, signed by a ZelID linked to an account."""
    next_url = safe_next_url(request, request.GET.get("next"))
    if request.user.is_authenticated:
        # Already signed in: nothing to offer here (to switch accounts, sign out first).
        return redirect(next_url)
    return render(request, "wallets/signin.html", {"done_url": next_url})


@cache_control(max_age=86400, public=True)
def icon(request):
    """The icon ZelCore shows next to our request (served by the panel itself)."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" '
           'rx="12" fill="#2a5bd7"/><path d="M18 16h28v8H27v8h15v8H27v8h-9z" fill="#fff"/></svg>')
    return HttpResponse(svg, content_type="image/svg+xml")


@team_view()
def nav_badge(request):
    """The nav's small counter (loaded by htmx after the page, so no page pays its queries)."""
    expiring = sessions.expiring_sessions(request.team).count()
    waiting = signing.signable(request.membership).count() if request.membership.can(Role.OPERATOR) else 0
    return render(request, "wallets/_nav_badge.html", {"expiring": expiring, "waiting": waiting})


# --------------------------------------------------------------------------- node sessions


@team_view()
def sessions_page(request):
    now = timezone.now()
    rows = NodeSession.objects.filter(team=request.team).select_related("node", "created_by")
    authorisations = (AppOwnerAuthorisation.objects.filter(team=request.team, expires_at__gt=now)
                      .select_related("created_by"))
    return render(request, "wallets/sessions.html", {
        "sessions": rows, "authorisations": authorisations,
        "prepare_form": PrepareLoginForm(team=request.team), "app_owner_form": AppOwnerForm(),
        "is_operator": request.membership.can(Role.OPERATOR), **_banner(request.team),
    })


def _after_prepare(request, batch: str, zelid: str, created: int):
    if signing.is_key_holder(request.user, zelid):
        return redirect(reverse("wallets:sign") + f"?batch={batch}")
    messages.info(request, f"{created} signing request(s) prepared; they wait for the key holder "
                           f"of {zelid}.")
    return redirect("wallets:requests")


@team_view(Role.OPERATOR)
@guards_secrets_in_form
@require_POST
def prepare_login(request):
    form = PrepareLoginForm(request.POST, team=request.team)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("wallets:sessions")
    zelid, node = form.cleaned_data["zelid"], form.cleaned_data["node"]
    nodes = [node] if node else signing.nodes_owned_by(request.team, zelid)
    if not nodes:
        messages.error(request, f"No node of this team reports {zelid} as its owner. Pick a node "
                                "to log in to it as a plain user, or sweep the fleet first.")
        return redirect("wallets:sessions")
    purpose = (f"Log in to the node as {zelid} so the team's operators can run its admin "
               "operations through the panel (14 days).")
    batch, requests = actions.prepare_node_logins(membership=request.membership, zelid=zelid,
                                                  nodes=nodes, purpose=purpose)
    return _after_prepare(request, batch, zelid, len(requests))


@team_view(Role.OPERATOR)
@require_POST
def renew_all(request):
    """One flow for every session that ends within three days: a login request per session."""
    batch, by_zelid = actions.renew_all(membership=request.membership)
    if not by_zelid:
        messages.info(request, "No session ends within three days.")
        return redirect("wallets:sessions")
    renewals = sum(len(nodes) for nodes in by_zelid.values())
    mine = [z for z in by_zelid if signing.is_key_holder(request.user, z)]
    if mine:
        return redirect(reverse("wallets:sign") + f"?batch={batch}")
    messages.info(request, f"{renewals} renewal(s) prepared; they wait for the key holders of "
                           + ", ".join(by_zelid) + ".")
    return redirect("wallets:requests")


@team_view(Role.OPERATOR)
@require_POST
def session_logout(request, pk):
    session = team_object_or_404(NodeSession.objects.select_related("node"), request.team, pk=pk)
    result = actions.logout_session(membership=request.membership, session=session)
    messages.success(request, f"Session of {session.zelid} on {session.node.name} {result}.")
    return redirect(safe_next_url(request, request.POST.get("next"), "wallets:sessions"))


@team_view(Role.OPERATOR)
@guards_secrets_in_form
@require_POST
def app_owner(request):
    form = AppOwnerForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("wallets:sessions")
    zelid = form.cleaned_data["zelid"]
    batch = signing.new_batch()
    actions.create_request(
        membership=request.membership, kind="app_owner", zelid=zelid, batch=batch,
        purpose=f"Let the panel run global operations on the apps owned by {zelid}, on every "
                "node, for 2 hours.")
    return _after_prepare(request, batch, zelid, 1)


@team_view(Role.OPERATOR)
@require_POST
def authorisation_revoke(request, pk):
    authorisation = team_object_or_404(AppOwnerAuthorisation, request.team, pk=pk)
    actions.revoke_authorisation(membership=request.membership, authorisation=authorisation)
    messages.success(request, f"The panel forgot the app-owner authorisation of {authorisation.zelid} "
                              "(nodes keep accepting it until its 2 hours end).")
    return redirect("wallets:sessions")


# --------------------------------------------------------------------------- signing requests


@team_view()
def requests_page(request):
    rows = (SigningRequest.objects.filter(team=request.team)
            .select_related("node", "created_by", "decided_by")[:HISTORY])
    mine = set(signing.identity_keys(request.user))
    return render(request, "wallets/requests.html", {"requests": rows, "my_keys": mine})


@team_view()
def request_detail(request, pk):
    signing_request = team_object_or_404(
        SigningRequest.objects.select_related("node", "created_by", "decided_by"), request.team, pk=pk)
    can_sign = (signing_request.shown_status == SigningRequest.Status.PENDING
                and request.membership.can(Role.OPERATOR)
                and signing.is_key_holder(request.user, signing_request.zelid))
    can_cancel = (signing_request.status == SigningRequest.Status.PENDING
                  and request.membership.can(Role.OPERATOR)
                  and (signing_request.created_by_id == request.user.pk
                       or request.membership.can(Role.MANAGER)))
    kind = get_kind(signing_request.kind)
    return render(request, "wallets/request_detail.html", {
        "req": signing_request, "can_sign": can_sign, "can_cancel": can_cancel,
        "next_url": reverse("wallets:sign_next") + f"?request={signing_request.pk}",
        # A kind may show its own part (e.g. an app message's diff), rendered with its context.
        "detail_html": render_to_string(kind.detail_template, kind.detail_context(signing_request),
                                        request) if kind.detail_template and kind.detail_context else "",
    })


def _close(request, pk, action, done_text):
    signing_request = team_object_or_404(SigningRequest, request.team, pk=pk)
    try:
        action(membership=request.membership, request=signing_request)
    except (ValidationError, PermissionDenied) as exc:
        text = refusal_text(exc)
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": text, "code": "refused"}, status=409)
        messages.error(request, text)
    else:
        if _wants_json(request):
            return JsonResponse({"ok": True, "message": done_text, "next": True})
        messages.success(request, done_text)
    return redirect("wallets:request_detail", pk=pk)


@team_view(Role.OPERATOR)
@require_POST
def request_decline(request, pk):
    return _close(request, pk, actions.decline, "Declined: nothing was signed.")


@team_view(Role.OPERATOR)
@require_POST
def request_cancel(request, pk):
    return _close(request, pk, actions.cancel, "Request withdrawn.")


@team_view(Role.OPERATOR)
def sign(request):
    """The key holder's queue (or one batch of it), signed one message after another."""
    batch = request.GET.get("batch", "")[:32]
    if not batch.isalnum():  # batches are uuid4 hex; e.g. a NUL byte would fail in PostgreSQL
        batch = ""
    query = f"?batch={batch}" if batch else ""
    pending = signing.signable(request.membership)
    if batch:
        pending = pending.filter(batch=batch)
    return render(request, "wallets/sign.html", {
        "next_url": reverse("wallets:sign_next") + query, "batch": batch,
        "pending": list(pending.order_by("created_at", "id")[:200]),
        "key_holder": WalletIdentity.objects.filter(user=request.user).exists(),
    })
