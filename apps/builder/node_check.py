"""Check a draft on a node before signing (issue 14, item 3).

FluxOS's own `verifyappregistrationspecifications` (a new app) or `verifyappupdatespecifications`
(update, renewal, cancellation) on one of the team's nodes that answered lately; the node answers
the formatted spec or its error text. The node is an untrusted peer: one call through
`apps.nodes.clients.node_client`, bounded in time (`seconds()`, "no answer after N s") and size,
and its answer is shown only when it is a spec object (compared with the panel's own formatting).
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.nodes.clients import node_client
from apps.nodes.models import ANSWERED_STATES, Node
from fluxpanel.fluxos.client import FluxClientError, NodeTimeout
from fluxpanel.fluxos.specs import format_spec

RECENT = timedelta(minutes=30)
CHOICES_MAX = 25
MAX_BODY = 512 * 1024
SHOWN_MAX = 40_000
TEXT_MAX = 500


def seconds() -> float:
    return float(settings.BUILDER_NODE_CHECK_SECONDS)


def node_choices(team, now=None):
    """The team's nodes that answered a sweep lately, most recent first."""
    now = now or timezone.now()
    return list(Node.objects.filter(team=team, snapshot__state__in=ANSWERED_STATES,
                                    snapshot__last_seen__gte=now - RECENT)
                .order_by("-snapshot__last_seen", "name").only("pk", "name", "address", "base_url")[:CHOICES_MAX])


@dataclass
class NodeCheck:
    node: str
    route: str
    ok: bool = False
    error: str = ""
    formatted: str = ""
    same_as_panel: bool | None = None


def route_of(draft) -> str:
    return "verifyappregistrationspecifications" if draft.kind == draft.Kind.NEW else "verifyappupdatespecifications"


def check_on_node(draft, node) -> NodeCheck:
    result = NodeCheck(node=f"{node.name} ({node.address})", route=route_of(draft))
    limit = seconds()
    client = node_client(node.base_url, timeout=(min(3.0, limit), limit), deadline_s=limit, max_body=MAX_BODY)
    spec = copy.deepcopy(draft.spec if isinstance(draft.spec, dict) else {})
    try:
        if draft.kind == draft.Kind.NEW:
            answer = client.verify_registration_spec(spec)
        else:
            answer = client.verify_update_spec(spec)
    except NodeTimeout:
        result.error = f"no answer after {limit:g} s"
        return result
    except FluxClientError as exc:
        result.error = str(exc.message)[:TEXT_MAX]
        return result
    except (ValueError, TypeError, AttributeError, OverflowError, RecursionError):
        result.error = "its answer is not a usable FluxOS reply"
        return result
    if not isinstance(answer, dict):
        result.error = "it answered something that is not a specification"
        return result
    try:
        shown = json.dumps(answer, indent=2, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        result.error = "it answered something that is not a specification"
        return result
    result.ok = True
    result.formatted = shown[:SHOWN_MAX]
    try:
        result.same_as_panel = format_spec(spec) == answer
    except Exception:  # noqa: BLE001 - the panel's own check says why on the Build tab
        result.same_as_panel = False
    return result
