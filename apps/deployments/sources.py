"""Where app sync and the app pages ask the network, and how an instance's node is reached.

A team's *sources* answer network-wide questions (global specs, locations, permanent messages,
price tables): its chosen source node, then its gateway URL, then up to `FALLBACK_NODES` of its
confirmed nodes. Every one is an untrusted peer under the nodes' outbound rules
(`apps.nodes.clients.node_client`): a source that hangs costs one timeout, then the next is asked.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from apps.nodes.clients import node_client
from apps.nodes.models import Node
from fluxpanel.fluxos.client import NodeClient
from fluxpanel.fluxos.client.addresses import parse_node_address

FALLBACK_NODES = 3


def source_timeout() -> tuple[float, float]:
    """Global specs and locations of the whole network are a few MB: room, not forever
    (settings.APP_SYNC_SOURCE_TIMEOUT_SECONDS to read, half as much again for the whole answer)."""
    return 3.0, float(settings.APP_SYNC_SOURCE_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class Source:
    label: str  # what pages show: "node n1 (1.2.3.4:16127)" or "gateway https://…"
    base_url: str

    def client(self, **options) -> NodeClient:
        connect, read = source_timeout()
        options.setdefault("timeout", (connect, read))
        options.setdefault("deadline_s", read * 1.5)
        return node_client(self.base_url, **options)


def team_sources(team) -> list[Source]:
    """The team's sources in the order they are tried (may be empty: nothing to ask)."""
    from apps.deployments.models import AppSyncSettings

    sources: list[Source] = []
    config = AppSyncSettings.objects.filter(team=team).select_related("source_node").first()
    if config and config.source_node_id:
        node = config.source_node
        sources.append(Source(f"node {node.name} ({node.address})", node.base_url))
    if config and config.gateway_url:
        sources.append(Source(f"gateway {config.gateway_url}", config.gateway_url))
    confirmed = (Node.objects.filter(team=team, snapshot__flux_status="CONFIRMED")
                 .order_by("-snapshot__last_seen", "pk").values_list("name", "address", "base_url"))
    seen = {s.base_url for s in sources}
    for name, address, base_url in confirmed[: FALLBACK_NODES + len(seen)]:
        if base_url not in seen and len(sources) < FALLBACK_NODES + 2:
            seen.add(base_url)
            sources.append(Source(f"node {name} ({address})", base_url))
    return sources


def location_url(location: str) -> str:
    """Base URL of the node behind a FluxOS location record (`ip` or `ip:port`).

    Raises ValueError for a record that is not a node address. In development,
    `FLUXPANEL_DEV_LOCATION_URL` (with `FLUXPANEL_ALLOW_ANY_NODE_URL`) maps it onto the simulator.
    """
    address = parse_node_address(location)
    if settings.DEV_LOCATION_URL and settings.ALLOW_ANY_NODE_URL:
        return settings.DEV_LOCATION_URL.format(location=address.location)
    return address.base_url()
