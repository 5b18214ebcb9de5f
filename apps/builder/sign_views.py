"""Sign tab: the draft's signing request, who can sign it, the diff, and sending it for signing."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.access import refusal_text, team_object_or_404, team_view
from apps.accounts.models import Membership, Role
from apps.builder import sign_actions
from apps.builder.models import AppDraft
from apps.builder.signing import diff_context, signer_zelid
from apps.wallets.models import SigningRequest, WalletIdentity
from apps.wallets.zelids import zelid_key

SUBMIT_LINES = 200  # the submit job's output shown on the tab (the job page has all of it)


def key_holders(team, zelid: str) -> list[str]:
    """Usernames of the team's operators (or more) who hold `zelid`'s key."""
    if not zelid:
        return []
    users = WalletIdentity.objects.filter(zelid_key=zelid_key(zelid)).values_list("user_id", flat=True)
    members = Membership.objects.filter(team=team, user_id__in=list(users)).select_related("user")
    return sorted(m.user.username for m in members if m.can(Role.OPERATOR))


def sign_tab(request, draft):
    signing_request = draft.signing_request
    if signing_request is not None and signing_request.team_id != draft.team_id:
        signing_request = None
    batch = []
    if signing_request is not None and signing_request.batch:
        batch = list(SigningRequest.objects.filter(team=draft.team, batch=signing_request.batch)
                     .exclude(pk=signing_request.pk).order_by("pk"))
    zelid = signing_request.zelid if signing_request else signer_zelid(draft)
    holders = key_holders(draft.team, zelid)
    return "builder/_tab_sign.html", {
        "signing_request": signing_request, "batch_requests": batch, "signer": zelid,
        "holders": holders, "send_blocked": _send_blocked(draft, zelid, holders),
        "message_length": len(signing_request.message) if signing_request and signing_request.message else 0,
        "can_send": draft.status in AppDraft.EDITABLE and request.membership.can(Role.OPERATOR),
        **submit_context(request, draft, zelid),
        **diff_context(draft),
    }


def _send_blocked(draft, zelid: str, holders) -> str:
    """Why sending for signing would be refused now ("" when it can go): said on the button."""
    from apps.builder.live_check import field_errors
    from apps.pricing.tables import price_context

    if not zelid:
        return "The spec has no owner yet: set it on the Build tab."
    if not holders:
        return "Nobody here can sign it yet: its key holder must link the ZelID on the Wallet page."
    errors = field_errors(draft.spec if isinstance(draft.spec, dict) else {}, price_context(draft.team).height)
    if errors:
        field, text = next(iter(errors.items()))
        return f"Fix the spec first ({field + ': ' if field else ''}{text})."
    return ""


def submit_context(request, draft, zelid: str) -> dict:
    """The submit job's state and its last output lines (templates/builder/_submit.html)."""
    from apps.builder import submit
    from apps.jobs.models import Job

    job = Job.objects.filter(pk=draft.submit_job_id, team=draft.team).first() if draft.submit_job_id else None
    if job is None:
        return {"submit_job": None}
    lines = list(job.lines.order_by("-seq")[:SUBMIT_LINES])[::-1]
    is_operator = request.membership.can(Role.OPERATOR)
    return {"submit_job": job, "submit_lines": lines, "submit_cursor": lines[-1].seq if lines else 0,
            "can_retry": is_operator and submit.can_retry(draft),
            "needs_zelidauth": is_operator and job.status == Job.Status.FAILED
            and job.error.startswith("No valid zelidauth"), "zelidauth_signer": zelid}


@team_view(Role.OPERATOR)
@require_POST
def draft_submit_retry(request, pk):
    from apps.builder import submit

    draft = team_object_or_404(AppDraft.objects.select_related("submit_job"), request.team, pk=pk)
    try:
        job = submit.retry_submit(membership=request.membership, draft=draft)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, f"Submitting again (job #{job.pk}): the network is asked for the "
                                  "message's hash first, so it is never registered twice.")
    return redirect(reverse("builder:draft", args=[draft.pk]) + "?tab=sign")


@team_view(Role.OPERATOR)
@require_POST
def draft_sign(request, pk):
    draft = team_object_or_404(AppDraft.objects.select_related("app"), request.team, pk=pk)
    try:
        signing_request = sign_actions.send_for_signing(membership=request.membership, draft=draft)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, f"Sent for signing by {signing_request.zelid}: its key holder "
                                  "finds it on the Wallet page.")
    return redirect(reverse("builder:draft", args=[draft.pk]) + "?tab=sign")
