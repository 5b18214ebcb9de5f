"""The JSON endpoints of the signing component (static/js/wallet-sign.js).

`*_next` hands out the next message to sign (rendered item HTML), `*_submit`/`request_sign` take
`{address, signature, message}` from the browser, `*_poll` tells a page waiting for ZelCore what
happened, and `*_callback` is where ZelCore itself posts (no CSRF: it is not a browser; it accepts
only a pending message's exact text and a valid signature, once).

Signatures never appear in a response, a log line or an error report (sensitive_post_parameters).
"""
from __future__ import annotations

import json
import logging

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.wallets import challenges, signing
from apps.wallets.forms import SignatureForm
from apps.wallets.items import challenge_item, render_done, render_item, request_item
from apps.wallets.kinds import SigningFailed, SignRefused
from apps.wallets.models import Challenge, SigningRequest
from apps.wallets.secrets_guard import SECRET_CODE

log = logging.getLogger(__name__)
SECRET_FIELDS = ("signature", "address", "message")


def refused(exc: SignRefused) -> JsonResponse:
    return JsonResponse({"ok": False, "error": exc.message, "code": exc.code}, status=exc.status)


def form_problem(form) -> tuple[str, str]:
    """(message, code) of an invalid SignatureForm; a pasted key gets the guard's own warning."""
    if form.secret_refused:
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        return errors[0], SECRET_CODE
    return "Address, signature and message are all needed: " + "; ".join(
        f"{name}: {' '.join(errs)}" for name, errs in form.errors.items()), "invalid"


def form_refused(form) -> JsonResponse:
    message, code = form_problem(form)
    return JsonResponse({"ok": False, "error": message, "code": code}, status=400)


def _fields(form) -> dict:
    data = form.cleaned_data
    return {"address": data["address"], "message": data["message"], "signature": data["signature"]}


# --------------------------------------------------------------------------- challenges


@require_POST
def signin_next(request):
    challenge = challenges.issue(request, Challenge.Purpose.SIGN_IN)
    return JsonResponse({"done": False, "html": render_item(request, challenge_item(request, challenge))})


@team_view(Role.VIEWER)
@require_POST
def bind_next(request):
    challenge = challenges.issue(request, Challenge.Purpose.BIND)
    return JsonResponse({"done": False, "html": render_item(request, challenge_item(request, challenge))})


def _not_this_browser() -> JsonResponse:
    return JsonResponse({"ok": False, "code": "unknown", "error": "This message was not issued to "
                         "this browser (or you signed out meanwhile). Get a new message."}, status=404)


def _done_url(challenge: Challenge) -> str:
    return reverse("home") if challenge.purpose == Challenge.Purpose.SIGN_IN else reverse("wallets:home")


@sensitive_post_parameters(*SECRET_FIELDS)
@require_POST
def challenge_submit(request, token):
    challenge = challenges.for_browser(request, token)
    if challenge is None:
        return _not_this_browser()
    form = SignatureForm(request.POST, expected_message=challenge.message)
    if not form.is_valid():
        return form_refused(form)
    fields = _fields(form)
    try:
        challenges.check(challenge, **fields)
        message = challenges.complete(request, challenge, fields["address"])
    except SignRefused as exc:
        log.info("wallet %s refused: %s", challenge.purpose, exc.code)
        return refused(exc)
    return JsonResponse({"ok": True, "message": message, "redirect": _done_url(challenge)})


@require_POST
def challenge_poll(request, token):
    """POST, not GET: when ZelCore has signed, this request is what signs the browser in."""
    challenge = challenges.for_browser(request, token)
    if challenge is None:
        return _not_this_browser()
    answer = challenges.poll(request, challenge)
    if answer["status"] == "done":
        answer["redirect"] = _done_url(challenge)
    return JsonResponse(answer)


def callback_fields(request) -> dict:
    """ZelCore posts a form (address, message, signature); FluxOS also takes JSON and the
    `zelid`/`loginPhrase` aliases, so we do too."""
    data = request.POST.dict()
    if not data and request.body:
        try:
            parsed = json.loads(request.body)
            data = parsed if isinstance(parsed, dict) else {}
        except (ValueError, UnicodeDecodeError):
            data = {}
    return {
        "address": data.get("address") or data.get("zelid") or "",
        "message": data.get("message") or data.get("loginPhrase") or "",
        "signature": data.get("signature") or "",
        "via": "zelcore",
    }


def fluxos_answer(message: str, status: int = 200) -> JsonResponse:
    """The envelope FluxOS itself answers ZelCore with (its reaction to others is undocumented)."""
    return JsonResponse({"status": "success" if status == 200 else "error",
                         "data": {"message": message}}, status=status)


@csrf_exempt
@sensitive_post_parameters(*SECRET_FIELDS)
@require_POST
def challenge_callback(request, token):
    challenge = Challenge.objects.filter(token=token).first()
    form = SignatureForm(callback_fields(request),
                         expected_message=challenge.message if challenge else "")
    if not form.is_valid():
        return fluxos_answer(form_problem(form)[0], 400)
    try:
        message = challenges.accept_callback(token=token, **_fields(form))
    except SignRefused as exc:
        return fluxos_answer(exc.message, exc.status)
    return fluxos_answer(message)


# --------------------------------------------------------------------------- signing requests


def _request_filter(request) -> tuple[str, int | None]:
    batch = request.GET.get("batch", "")[:32]
    raw = request.GET.get("request", "")
    return batch, int(raw) if raw.isdigit() else None


@team_view(Role.OPERATOR)
@require_POST
def sign_next(request):
    batch, request_id = _request_filter(request)
    signing_request = signing.open_next(membership=request.membership, batch=batch,
                                        request_id=request_id)
    if signing_request is None:
        context = {"batch": batch, "counts": signing.batch_counts(request.team, batch) if batch else {}}
        if request_id is not None:
            context["single"] = SigningRequest.objects.filter(team=request.team, pk=request_id).first()
        return JsonResponse({"done": True, "html": render_done(request, context)})
    item = request_item(request, signing_request, batch=batch)
    return JsonResponse({"done": False, "html": render_item(request, item)})


@team_view(Role.OPERATOR)
@sensitive_post_parameters(*SECRET_FIELDS)
@require_POST
def request_sign(request, pk):
    signing_request = team_object_or_404(SigningRequest.objects.select_related("node", "team"),
                                         request.team, pk=pk)
    form = SignatureForm(request.POST, expected_message=signing_request.message)
    if not form.is_valid():
        return form_refused(form)
    try:
        outcome = signing.sign(request=signing_request, actor=request.user,
                               via=form.cleaned_data.get("via") or "browser", **_fields(form))
    except SignRefused as exc:
        return refused(exc)
    except SigningFailed as exc:
        # The request failed for good (it is closed with the reason); the queue goes on.
        return JsonResponse({"ok": False, "error": str(exc), "code": "failed", "next": True}, status=502)
    return JsonResponse({"ok": True, "message": outcome, "next": True})


@team_view(Role.OPERATOR)
@require_POST
def request_poll(request, pk):
    signing_request = team_object_or_404(SigningRequest, request.team, pk=pk)
    return JsonResponse(poll_answer(signing_request))


def poll_answer(signing_request: SigningRequest) -> dict:
    Status = SigningRequest.Status
    status = signing_request.status
    if status == Status.SIGNED:
        return {"status": "done", "message": signing_request.outcome}
    if status == Status.FAILED:
        return {"status": "failed", "message": signing_request.outcome, "next": True}
    if status in (Status.DECLINED, Status.CANCELLED, Status.EXPIRED):
        return {"status": "closed", "message": signing_request.outcome or signing_request.get_status_display()}
    if status == Status.PENDING and signing.message_expires_at(signing_request) <= timezone.now():
        return {"status": "expired", "message": "This message expired. Get a new message and sign again."}
    if signing_request.callback_error:
        return {"status": "error", "message": signing_request.callback_error}
    return {"status": "pending"}


@csrf_exempt
@sensitive_post_parameters(*SECRET_FIELDS)
@require_POST
def request_callback(request, token):
    signing_request = get_object_or_404(SigningRequest, token=token)
    form = SignatureForm(callback_fields(request), expected_message=signing_request.message)
    if not form.is_valid():
        return fluxos_answer(form_problem(form)[0], 400)
    try:
        outcome = signing.sign_from_callback(token=token, **_fields(form))
    except SignRefused as exc:
        return fluxos_answer(exc.message, exc.status)
    except SigningFailed as exc:
        return fluxos_answer(str(exc), 502)
    return fluxos_answer(outcome)
