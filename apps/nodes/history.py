"""Uptime from StatusChange rows: the share of the watched time in which the node answered.

The computation lives in apps.nodes.timeline (which also draws the windows); this is the short
form some callers want: label → percent over the watched part of that window, or None.
"""
from __future__ import annotations

from apps.nodes.timeline import WINDOWS, node_timeline

__all__ = ["WINDOWS", "uptime"]


def uptime(node, now=None) -> dict[str, float | None]:
    """Percentage of watched time up over each window, or None where nothing was observed yet.

    Time before the node's first observed state does not count either way.
    """
    return {window.label: window.percent for window in node_timeline(node, now=now)}
