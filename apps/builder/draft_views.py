"""The drafts list, a new blank draft, and the draft's log tab.

Import of pasted JSON, drafts from a live app (update, renew, cancel), duplicate and abandon are
the next steps of issue 14; their URLs are added with them.
"""
from __future__ import annotations

from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.access import team_view
from apps.accounts.models import Role
from apps.builder.actions import create_draft
from apps.builder.builder_form import blank_component
from apps.builder.models import AppDraft
from apps.wallets.models import WalletIdentity

LIST_LIMIT = 200


def blank_spec(team) -> dict:
    """A v8 spec to start from: one component, owner = a ZelID a member of the team linked."""
    owner = (WalletIdentity.objects.filter(user__memberships__team=team).order_by("pk")
             .values_list("zelid", flat=True).first()) or ""
    return {"version": 8, "name": "", "description": "", "owner": owner, "compose": [blank_component()],
            "instances": 3, "contacts": [], "geolocation": [], "expire": 88000, "nodes": [],
            "staticip": False, "enterprise": ""}


def log_tab(request, draft):
    return "builder/_tab_log.html", {"events": list(draft.events.select_related("actor"))}


@team_view()
def draft_list(request):
    drafts = (AppDraft.objects.filter(team=request.team).select_related("updated_by", "app")
              .order_by("-updated_at", "-id")[:LIST_LIMIT])
    return render(request, "builder/drafts.html", {
        "drafts": drafts, "can_edit": request.membership.can(Role.OPERATOR)})


@team_view(Role.OPERATOR)
@require_POST
def draft_new(request):
    draft = create_draft(membership=request.membership, spec=blank_spec(request.team), origin="blank")
    return redirect("builder:draft", pk=draft.pk)
