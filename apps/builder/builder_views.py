"""Build tab: the spec editor, its autosave and the live check + price (issue 14, item 2)."""
from __future__ import annotations

from django.http import HttpResponseNotAllowed
from django.shortcuts import render

from apps.accounts.access import team_object_or_404, team_view
from apps.accounts.models import Role
from apps.builder import actions
from apps.builder.builder_form import MAX_COMPONENTS, apply_op, form_to_spec, spec_to_form
from apps.builder.live_check import live_result
from apps.builder.models import AppDraft
from apps.builder.sign_views import key_holders
from apps.builder.signing import existing_app, signer_zelid
from apps.pricing.tables import price_context
from fluxpanel.params import parse_int

OPS = ("add_component", "remove_component", "move_up", "move_down")
# The fields of _build_form.html that have an error slot.
TOP_FIELDS = ("name", "description", "owner", "instances", "expire", "contacts", "geolocation", "nodes",
              "staticip", "enterprise")
COMPONENT_FIELDS = ("name", "description", "repotag", "repoauth", "ports", "containerPorts", "domains",
                    "environmentParameters", "commands", "containerData", "cpu", "ram", "hdd")


def _context(request, draft, spec, message=None):
    editable = draft.is_editable and request.membership.can(Role.OPERATOR)
    live = live_result(spec, price_context(request.team), existing_app(draft))
    signer = spec.get("owner") if draft.kind == draft.Kind.NEW else signer_zelid(draft)
    if isinstance(signer, str) and signer and not key_holders(request.team, signer):
        # Said before anything is sent for signing: the request would wait for nobody.
        live["notices"].append(f"No operator of this team has linked {signer}: its key holder must "
                               "link it on the Wallet page before this message can be signed.")
    form = spec_to_form(spec)
    form["errors"] = {key: text for key, text in live["errors"].items() if key and not key.startswith("compose[")}
    for index, row in enumerate(form["components"]):
        prefix = f"compose[{index}]."
        row["index"], row["prefix"] = index, f"c{index}-"
        row["errors"] = {key[len(prefix):]: text for key, text in live["errors"].items() if key.startswith(prefix)}
        whole = live["errors"].get(f"compose[{index}]")
        if whole:
            row["errors"]["name"] = whole
    compose_error = live["errors"].get("compose")
    # Every field's error slot with its text now ("" clears it): an autosave refills them all.
    error_slots = [(name, form["errors"].get(name, "")) for name in TOP_FIELDS]
    error_slots += [(row["prefix"] + name, row["errors"].get(name, ""))
                    for row in form["components"] for name in COMPONENT_FIELDS]
    return {"error_slots": error_slots, "draft": draft, "form": form, "live": live, "editable": editable, "compose_error": compose_error,
            "message": message, "max_components": MAX_COMPONENTS}


def build_tab(request, draft):
    return "builder/_tab_build.html", _context(request, draft, draft.spec or {})


@team_view(Role.OPERATOR)
def draft_save(request, pk):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    draft = team_object_or_404(AppDraft, request.team, pk=pk)
    spec = form_to_spec(request.POST)
    op = request.POST.get("op", "")
    message = None
    if op in OPS:
        message = apply_op(spec, op, parse_int(request.POST.get("index"), minimum=0, maximum=MAX_COMPONENTS))
    revision = parse_int(request.POST.get("revision"), minimum=1, maximum=10**9) or 0
    status = 200
    try:
        draft = actions.save_draft(membership=request.membership, draft=draft, spec=spec, revision=revision)
    except actions.StaleDraft:
        draft.refresh_from_db()
        message = "This draft was changed elsewhere; reload it to see the latest version (your edit was not saved)."
        status = 409
    except actions.DraftLocked as error:
        message = str(error)
        status = 409
    context = _context(request, draft, spec, message)
    context["oob"] = True
    template = "builder/_build_form.html" if op in OPS or status != 200 else "builder/_build_result.html"
    return render(request, template, context, status=status)
