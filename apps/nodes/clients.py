"""The one way Django code builds a FluxOS NodeClient: with the panel's outbound policy applied.

Nodes are untrusted addresses that users type in. Private, loopback and link-local addresses are
refused at connection time (fluxpanel.netguard) unless `FLUXPANEL_ALLOW_ANY_NODE_URL` is set for
development (the simulated fleet listens on loopback). Read at call time, so a test's `settings`
override applies.
"""
from __future__ import annotations

from django.conf import settings

from fluxpanel.fluxos.client import NodeClient


def node_client(base_url: str, **kwargs) -> NodeClient:
    kwargs.setdefault("allow_private", bool(settings.ALLOW_ANY_NODE_URL))
    return NodeClient(base_url, **kwargs)
