"""The draft page: one URL, `/drafts/<id>/`, with its tabs as htmx partials (`?tab=…`).

Each tab lives in its own module, as `tab(request, draft) -> (partial template, context)`:
build (`builder_views`, with its Review part from `draft_views.review_context`: the diff and
the check on a node), sign (`sign_views`), pay (`pay_views`), log (`draft_views`). This module
only picks the tab and renders the page around it, so the open tab stays marked and every tab
link works without JavaScript.
"""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.builder import builder_views, draft_views, pay_views, sign_views
from apps.builder.models import AppDraft

TABS = [
    ("build", "Build", builder_views.build_tab),
    ("sign", "Sign", sign_views.sign_tab),
    ("pay", "Pay", pay_views.pay_tab),
    ("log", "Log", draft_views.log_tab),
]
TAB_FUNCTIONS = {key: function for key, _, function in TABS}


def default_tab(draft: AppDraft) -> str:
    """The tab a draft opens on: where its next step is."""
    if draft.status in (AppDraft.Status.DRAFT, AppDraft.Status.FAILED):
        return "build"
    if draft.status in pay_views.PAY_STATUSES:
        return "pay"
    return "sign"


@team_view()
def draft_page(request, pk):
    draft = team_object_or_404(AppDraft.objects.select_related("app", "created_by", "updated_by"),
                               request.team, pk=pk)
    tab = request.GET.get("tab") or default_tab(draft)
    if tab not in TAB_FUNCTIONS:
        raise Http404("No such tab.")
    return render_draft_page(request, draft, tab)


def render_draft_page(request, draft, tab, extra=None):
    """The draft page (or its tab for htmx) on `tab`; `extra` adds to the tab's context."""
    partial, context = TAB_FUNCTIONS[tab](request, draft)
    context.update(draft=draft, tab=tab, tab_partial=partial, tabs=[(k, label) for k, label, _ in TABS],
                   can_edit=request.membership.can(Role.OPERATOR))
    if tab == "build":  # the Build tab's Review part: the diff and the check on a node
        context.update(extra or draft_views.review_context(request, draft))
    if request.htmx and request.htmx.target == "draft-tab":
        return render(request, "builder/_tab.html", context)
    return render(request, "builder/draft.html", context)
