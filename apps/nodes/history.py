"""Uptime from StatusChange rows: the share of a window in which the node answered."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.nodes.models import NodeState, StatusChange

WINDOWS = {"24 h": timedelta(hours=24), "7 d": timedelta(days=7), "30 d": timedelta(days=30)}


def uptime(node, now=None) -> dict[str, float | None]:
    """Percentage of time up over each window, or None where nothing was observed yet.

    Time before the node's first observed state does not count either way.
    """
    now = now or timezone.now()
    longest = max(WINDOWS.values())
    changes = list(
        StatusChange.objects.filter(node=node, at__gte=now - longest).order_by("at").values_list("at", "new_state")
    )
    before = (
        StatusChange.objects.filter(node=node, at__lt=now - longest).order_by("-at").values_list("new_state", flat=True).first()
    )
    return {label: _share(changes, before, now - span, now) for label, span in WINDOWS.items()}


def _share(changes, state_before, start, end) -> float | None:
    up = observed = 0.0
    state, since = state_before, start
    for at, new_state in changes:
        if at < start:
            state = new_state
            continue
        if state is not None and state != "unknown":
            length = (at - since).total_seconds()
            observed += length
            up += length if NodeState.answered(state) else 0
        state, since = new_state, at
    if state is not None and state != "unknown":
        length = (end - since).total_seconds()
        observed += length
        up += length if NodeState.answered(state) else 0
    if observed <= 0:
        return None
    return round(100 * up / observed, 2)
