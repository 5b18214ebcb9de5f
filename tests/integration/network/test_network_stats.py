"""The Network page against the stats double over real HTTP: projections parsed, the TTL kept,
faults leave the previous figures marked stale with a reason, private URLs refused."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.network import refresh
from apps.network.models import NetworkStats
from apps.nodes.models import Node, NodeSnapshot

pytestmark = pytest.mark.django_db

URL = reverse("network:overview")


def refresh_part(client):
    return client.get(URL, {"part": "network"}, headers={"HX-Request": "true"})


def age_row(seconds: int = 100_000):
    NetworkStats.objects.update(checked_at=timezone.now() - timedelta(seconds=seconds))


def network_of(double) -> dict:
    tiers = {}
    for node in double.network:
        tiers[node["tier"]] = tiers.get(node["tier"], 0) + 1
    return tiers


def test_it_parses_the_doubles_projection(stats_api, client_as):
    answer = refresh_part(client_as("viewer"))
    assert answer.status_code == 200
    row = NetworkStats.objects.get()
    assert not row.stale and row.fetched_at
    figures = row.figures
    assert figures["nodes"] == len(stats_api.network)
    assert figures["tiers"] == network_of(stats_api)
    assert figures["arcane"] == sum(1 for n in stats_api.network if "arcaneVersion" in n["flux"])
    assert set(figures["versions"]) == {n["flux"]["version"] for n in stats_api.network}
    # Only a projection was asked: never the full listing.
    assert stats_api.projections and all(stats_api.projections)
    assert "benchmark.bench.eps" in stats_api.projections[0].split(",")
    assert f'data-network-nodes>{len(stats_api.network)}<' in answer.content.decode()


def test_it_asks_nothing_again_within_the_ttl(stats_api, client_as, settings):
    settings.NETWORK_STATS_TTL_S = 600
    client = client_as("viewer")
    refresh_part(client)
    assert stats_api.requests == 1
    page = client.get(URL)
    again = refresh_part(client)
    assert stats_api.requests == 1  # the second view within the TTL made no call
    assert page.status_code == again.status_code == 200
    assert 'hx-trigger="load"' not in page.content.decode().split('id="network-stats"', 1)[1][:300]
    age_row(601)
    refresh_part(client)
    assert stats_api.requests == 2


@pytest.mark.parametrize("fault, reason_word", [
    ("garbage", "unusable values"),
    ("huge", "too large"),
    ("http500", "500"),
    ("slow", "too slow"),
])
def test_it_keeps_the_previous_figures_stale_with_a_reason(fault, reason_word, stats_api, client_as, settings):
    settings.NETWORK_STATS_DEADLINE_S = 2
    client = client_as("viewer")
    refresh_part(client)
    before = NetworkStats.objects.get()
    assert not before.stale
    stats_api.fault = fault
    age_row()
    started = timezone.now()
    answer = refresh_part(client)
    assert (timezone.now() - started).total_seconds() < 15  # bounded
    row = NetworkStats.objects.get()
    assert row.stale and row.reason
    assert reason_word in row.reason
    assert row.figures == before.figures and row.fetched_at == before.fetched_at
    body = answer.content.decode()
    assert "data-stale-reason" in body and f'data-network-nodes>{before.figures["nodes"]}<' in body
    stats_api.fault = None
    age_row()
    refresh_part(client)
    assert not NetworkStats.objects.get().stale  # a good answer clears it


def test_it_refuses_a_private_stats_url_unless_development(stats_api, client_as, settings):
    settings.ALLOW_PRIVATE_STATS_API = False
    answer = refresh_part(client_as("viewer"))
    row = NetworkStats.objects.get()
    assert stats_api.requests == 0
    assert row.stale and "refused" in (row.reason + row.reason_detail).lower()
    assert row.figures == {}
    assert "No figures yet" in answer.content.decode()


def test_it_compares_the_fleet_with_the_network(stats_api, client_as, personas):
    newest, old = stats_api.network[0], stats_api.network[1]
    for index, record in enumerate((newest, old)):
        node = Node.objects.create(team=personas.team, name=f"n{index}", address=record["ip"],
                                   base_url=f"http://{record['ip']}:16127")
        NodeSnapshot.objects.update_or_create(node=node, defaults={
            "team": personas.team, "state": "confirmed", "tier": record["tier"],
            "version": "8.15.0" if index else "8.17.0"})
    answer = refresh_part(client_as("viewer"))
    body = answer.content.decode()
    row = refresh.current_row()
    assert newest["ip"] + ":16127" in row.figures["eps_by_ip"]
    assert "Newest FluxOS the network runs: <strong>8.17.0</strong>; 1 of your 2 nodes are on it" in body
    assert "2 versions behind: 1 node" in body
    assert "data-benchmarks" in body


def test_it_leaves_the_call_to_whoever_holds_the_refresh_lease(stats_api, client_as):
    client = client_as("viewer")
    refresh_part(client)
    age_row()
    NetworkStats.objects.update(refreshing_since=timezone.now())  # another page or the beat task
    refresh_part(client)
    assert stats_api.requests == 1
    NetworkStats.objects.update(refreshing_since=timezone.now() - timedelta(hours=1))  # a dead one
    refresh_part(client)
    assert stats_api.requests == 2 and NetworkStats.objects.get().refreshing_since is None
