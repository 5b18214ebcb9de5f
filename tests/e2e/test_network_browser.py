"""In a real browser: a viewer opens the Network page; it asks the stats double (the figures were
never fetched) and draws the network's tiers and versions as SVG, with the double's figures."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.nodes.models import Node, NodeSnapshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_draws_the_network_page_from_the_stats_double(personas, page, live_server, sign_in, stats_api):
    record = stats_api.network[0]
    node = Node.objects.create(team=personas.team, name="n0", address=record["ip"],
                               base_url=f"http://{record['ip']}:16127")
    NodeSnapshot.objects.update_or_create(node=node, defaults={
        "team": personas.team, "state": "confirmed", "tier": record["tier"], "version": "8.17.0"})
    tiers: dict[str, int] = {}
    for entry in stats_api.network:
        tiers[entry["tier"]] = tiers.get(entry["tier"], 0) + 1
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)

    sign_in("viewer", personas.password)
    page.goto(f"{live_server.url}/network/")
    expect(page.locator("[data-network-nodes]")).to_have_text(str(len(stats_api.network)))
    tier_chart = page.locator('figure[data-chart="tiers"] svg')
    expect(tier_chart.locator("rect")).to_have_count(3)
    for count in tiers.values():
        expect(tier_chart).to_contain_text(f"{count} ·")
    expect(page.locator('figure[data-chart="versions"] svg')).to_contain_text("8.17.0")
    expect(page.locator('#fleet-pictures figure svg').first).to_be_attached()
    expect(page.locator("[data-rewards-empty], #fleet-pictures figure[data-chart]").first).to_be_attached()
    assert stats_api.requests == 1
    assert not refused
