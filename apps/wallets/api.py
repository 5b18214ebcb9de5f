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

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.wallets import actions, challenges, items, signing
from apps.wallets.forms import SignatureForm
from apps.wallets.items import challenge_item, render_done, render_item, request_item
from apps.wallets.kinds import SigningFailed, SignRefused
from apps.wallets.middleware import guards_secrets_in_form
from apps.wallets.models import Challenge, SigningRequest
from apps.wallets.secrets_guard import SECRET_CODE
from apps.wallets.throttle import challenge_refusal
from fluxpanel.params import parse_id

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


def _new_challenge(request, purpose: str) -> JsonResponse:
    """Throttled per client (anonymous requests write a row); the QR code is not drawn here but
    on its own request (challenge_qr), only when someone opens it."""
    refusal = challenge_refusal(request)
    if refusal is not None:
        message, wait = refusal
        response = JsonResponse({"ok": False, "error": message, "code": "throttled"}, status=429)
        response["Retry-After"] = str(wait)
        return response
    challenge = actions.issue_challenge(request, purpose)
    response = JsonResponse({"done": False,
                             "html": render_item(request, challenge_item(request, challenge))})
    return challenges.remember_binding(request, response)


@require_POST
def signin_next(request):
    return _new_challenge(request, Challenge.Purpose.SIGN_IN)


@team_view(Role.VIEWER)
@require_POST
def bind_next(request):
    return _new_challenge(request, Challenge.Purpose.BIND)


def _not_this_browser() -> JsonResponse:
    return JsonResponse({"ok": False, "code": "unknown", "error": "This message was not issued to "
                         "this browser (or you signed out meanwhile). Get a new message."}, status=404)


def _done_url(challenge: Challenge) -> str:
    return reverse("home") if challenge.purpose == Challenge.Purpose.SIGN_IN else reverse("wallets:home")


@guards_secrets_in_form
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
        message = actions.complete_challenge(request, challenge, fields["address"])
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


class UnreadableCallback(ValueError):
    """A callback body that is neither a form nor a flat JSON object of strings."""


UNREADABLE_CALLBACK = ("The body must be a form, or a JSON object, with address (or zelid), "
                       "message (or loginPhrase) and signature as text.")


def callback_fields(request) -> dict:
    """ZelCore posts a form (address, message, signature); FluxOS also takes JSON and the
    `zelid`/`loginPhrase` aliases, so we do too. Anyone can post here: a body of another shape
    (deeply nested JSON, a list, numbers) raises UnreadableCallback."""
    data = request.POST.dict()
    is_form = request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded")
    if not data and not is_form and request.body:
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise UnreadableCallback(UNREADABLE_CALLBACK) from None
        if not isinstance(data, dict):
            raise UnreadableCallback(UNREADABLE_CALLBACK)
    fields = {
        "address": data.get("address") or data.get("zelid") or "",
        "message": data.get("message") or data.get("loginPhrase") or "",
        "signature": data.get("signature") or "",
    }
    if not all(isinstance(value, str) for value in fields.values()):
        raise UnreadableCallback(UNREADABLE_CALLBACK)
    return {**fields, "via": "zelcore"}


def fluxos_answer(message: str, status: int = 200) -> JsonResponse:
    """The envelope FluxOS itself answers ZelCore with (its reaction to others is undocumented)."""
    return JsonResponse({"status": "success" if status == 200 else "error",
                         "data": {"message": message}}, status=status)


@csrf_exempt
@sensitive_post_parameters(*SECRET_FIELDS)
@require_POST
def challenge_callback(request, token):
    challenge = Challenge.objects.filter(token=token).first()
    try:
        posted = callback_fields(request)
    except UnreadableCallback as exc:
        return fluxos_answer(str(exc), 400)
    form = SignatureForm(posted, expected_message=challenge.message if challenge else "")
    if not form.is_valid():
        return fluxos_answer(form_problem(form)[0], 400)
    try:
        message = actions.accept_challenge_callback(token=token, **_fields(form))
    except SignRefused as exc:
        return fluxos_answer(exc.message, exc.status)
    return fluxos_answer(message)


# --------------------------------------------------------------------------- signing requests


def _request_filter(request) -> tuple[str, int | None, bool]:
    """(batch, request id, ok): a `request` that is not an id is refused, not guessed."""
    batch = request.GET.get("batch", "")[:32]
    if not batch.isalnum():  # batches are uuid4 hex; e.g. a NUL byte would fail in PostgreSQL
        batch = ""
    raw = request.GET.get("request", "")
    request_id = parse_id(raw)
    return batch, request_id, not raw or request_id is not None


@team_view(Role.OPERATOR)
@require_POST
def sign_next(request):
    batch, request_id, ok = _request_filter(request)
    if not ok:
        return JsonResponse({"ok": False, "code": "invalid",
                             "error": "`request` must be the number of a signing request."},
                            status=400)
    signing_request = actions.open_next(membership=request.membership, batch=batch,
                                        request_id=request_id)
    if signing_request is None:
        context = {"batch": batch, "counts": signing.batch_counts(request.team, batch) if batch else {}}
        if request_id is not None:
            context["single"] = SigningRequest.objects.filter(team=request.team, pk=request_id).first()
        return JsonResponse({"done": True, "html": render_done(request, context)})
    item = request_item(request, signing_request, batch=batch)
    return JsonResponse({"done": False, "html": render_item(request, item)})


@team_view(Role.OPERATOR)
@guards_secrets_in_form
@sensitive_post_parameters(*SECRET_FIELDS)
@require_POST
def request_sign(request, pk):
    signing_request = team_object_or_404(SigningRequest.objects.select_related("node", "team"),
                                         request.team, pk=pk)
    form = SignatureForm(request.POST, expected_message=signing_request.message)
    if not form.is_valid():
        return form_refused(form)
    try:
        outcome = actions.sign(request=signing_request, actor=request.user,
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
    try:
        posted = callback_fields(request)
    except UnreadableCallback as exc:
        return fluxos_answer(str(exc), 400)
    form = SignatureForm(posted, expected_message=signing_request.message)
    if not form.is_valid():
        return fluxos_answer(form_problem(form)[0], 400)
    try:
        outcome = actions.sign_from_callback(token=token, **_fields(form))
    except SignRefused as exc:
        return fluxos_answer(exc.message, exc.status)
    except SigningFailed as exc:
        return fluxos_answer(str(exc), 502)
    return fluxos_answer(outcome)


# --------------------------------------------------------------------------- QR codes


def _qr_response(uri: str | None) -> HttpResponse:
    if not uri:
        raise Http404("This message has no ZelCore link.")
    response = HttpResponse(items.cached_qr_svg(uri), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=900"
    return response


@require_GET
def challenge_qr(request, token):
    """The QR code of a challenge's ZelCore link, drawn only when the page shows it."""
    challenge = challenges.for_browser(request, token)
    if challenge is None:
        raise Http404("This message was not issued to this browser.")
    return _qr_response(items.challenge_zel_uri(request, challenge))


@team_view(Role.OPERATOR)
@require_GET
def request_qr(request, pk):
    signing_request = team_object_or_404(SigningRequest, request.team, pk=pk)
    return _qr_response(items.request_zel_uri(request, signing_request))
