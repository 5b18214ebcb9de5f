"""The drafts list and every way a draft starts (blank, pasted JSON of any spec version, a
duplicate of a team app, an update / renewal / cancellation of a live app), abandoning a draft,
the Review part of the Build tab (the diff and the check on a node), and the draft's log tab.

The list page holds the import and duplicate forms: a refused paste or name comes back on it
with the reason and what was typed.
"""
from __future__ import annotations

from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.builder import actions, node_check
from apps.builder.actions import create_draft
from apps.builder.builder_form import blank_component
from apps.builder.models import AppDraft
from apps.deployments.models import TeamApp
from apps.wallets.models import WalletIdentity
from fluxpanel.params import parse_int

LIST_LIMIT = 200
APP_CHOICES_MAX = 200


def blank_spec(team) -> dict:
    """A v8 spec to start from: one component, owner = a ZelID a member of the team linked."""
    owner = (WalletIdentity.objects.filter(user__memberships__team=team).order_by("pk")
             .values_list("zelid", flat=True).first()) or ""
    return {"version": 8, "name": "", "description": "", "owner": owner, "compose": [blank_component()],
            "instances": 3, "contacts": [], "geolocation": [], "expire": 88000, "nodes": [],
            "staticip": False, "enterprise": ""}


def log_tab(request, draft):
    return "builder/_tab_log.html", {"events": list(draft.events.select_related("actor"))}


def review_context(request, draft, check=None) -> dict:
    """The Review part of the Build tab: the diff and the node check."""
    from apps.builder.diff import draft_diff

    context = {**draft_diff(draft), "node_check": check,
               "can_abandon": request.membership.can(Role.OPERATOR) and draft.status not in (
                   AppDraft.Status.LIVE, AppDraft.Status.ABANDONED)}
    if request.membership.can(Role.OPERATOR):
        context["check_nodes"] = node_check.node_choices(request.team)
    return context


def _list(request, **extra):
    drafts = (AppDraft.objects.filter(team=request.team).select_related("updated_by", "app")
              .order_by("-updated_at", "-id")[:LIST_LIMIT])
    can_edit = request.membership.can(Role.OPERATOR)
    context = {"drafts": drafts, "can_edit": can_edit, "import_text": "", "import_error": "",
               "duplicate_error": "", "duplicate_name": "", "duplicate_app": None}
    if can_edit:
        context["team_apps"] = list(TeamApp.objects.filter(team=request.team, dropped=False)
                                    .order_by("name_key").only("pk", "name")[:APP_CHOICES_MAX])
    context.update(extra)
    return render(request, "builder/drafts.html", context)


@team_view()
def draft_list(request):
    return _list(request)


@team_view(Role.OPERATOR)
@require_POST
def draft_new(request):
    draft = create_draft(membership=request.membership, spec=blank_spec(request.team), origin="blank")
    return redirect("builder:draft", pk=draft.pk)


@team_view(Role.OPERATOR)
@require_POST
def draft_import(request):
    text = request.POST.get("spec", "")
    try:
        draft = actions.import_draft(membership=request.membership, text=text)
    except actions.DraftRefused as exc:
        return _list(request, import_text=text, import_error=str(exc))
    return redirect("builder:draft", pk=draft.pk)


def _app(request, pk):
    return team_object_or_404(TeamApp, request.team, pk=pk)


@team_view(Role.OPERATOR)
@require_POST
def draft_duplicate(request, pk):
    app = _app(request, pk)
    name = request.POST.get("name", "")
    try:
        draft = actions.duplicate_app(membership=request.membership, app=app, name=name)
    except actions.DraftRefused as exc:
        return _list(request, duplicate_error=str(exc), duplicate_name=name[:64], duplicate_app=app)
    return redirect("builder:draft", pk=draft.pk)


@team_view(Role.OPERATOR)
@require_POST
def draft_from_app(request, pk):
    app = _app(request, pk)
    kind = request.POST.get("kind", AppDraft.Kind.UPDATE)
    months = parse_int(request.POST.get("months"), minimum=1, maximum=12) or 1
    try:
        draft = actions.draft_from_app(membership=request.membership, app=app, kind=kind, months=months)
    except actions.DraftRefused as exc:
        return _list(request, duplicate_error=str(exc), duplicate_app=app)
    return redirect("builder:draft", pk=draft.pk)


@team_view(Role.OPERATOR)
@require_POST
def draft_abandon(request, pk):
    draft = team_object_or_404(AppDraft.objects.select_related("app"), request.team, pk=pk)
    try:
        actions.abandon_draft(membership=request.membership, draft=draft,
                              reason=request.POST.get("reason", "")[:actions.REASON_MAX])
    except actions.DraftRefused as exc:
        from apps.builder.views import render_draft_page

        return render_draft_page(request, draft, "build",
                                 extra={**review_context(request, draft), "abandon_error": str(exc)})
    return redirect("builder:draft", pk=draft.pk)


@team_view(Role.OPERATOR)
def draft_node_check(request, pk):
    """Run the draft's spec through FluxOS's verify route on the chosen node."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    draft = team_object_or_404(AppDraft.objects.select_related("app"), request.team, pk=pk)
    node_id = parse_int(request.POST.get("node"), minimum=1, maximum=2**63 - 1)
    nodes = {node.pk: node for node in node_check.node_choices(request.team)}
    node = nodes.get(node_id)
    if node is None:
        check = node_check.NodeCheck(node="", route=node_check.route_of(draft),
                                     error="Choose one of the team's nodes that answered lately.")
    else:
        check = node_check.check_on_node(draft, node)
    if request.htmx:
        return render(request, "builder/_node_check_result.html", {"node_check": check, "draft": draft})
    from apps.builder.views import render_draft_page

    return render_draft_page(request, draft, "build", extra=review_context(request, draft, check))
