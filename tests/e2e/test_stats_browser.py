"""In a real browser: a viewer opens the Stats page of an app on the simulated fleet; the first
sample is taken at once and drawn as SVG charts, and the page's poll brings the next one."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.integration.operations.test_logs import make_app
from tests.sim.fluxnode import SimFleet

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=12, seed=3) as fleet:
        yield fleet


def test_it_draws_the_charts_and_updates_them(personas, page, live_server, sign_in, sim, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = sim.location_base
    settings.OPERATIONS_STATS_BUDGET_S = 2
    app, nodes = make_app(personas.team, sim, user=personas.operator)
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)

    sign_in("viewer", personas.password)
    page.goto(f"{live_server.url}/operate/{app.pk}/stats/")
    cards = page.locator(".stats-card")
    expect(cards).to_have_count(len(nodes) * len(app.spec["compose"]))
    cpu = cards.first.locator('figure[data-chart="percent"] svg')
    expect(cpu.locator("circle, path").first).to_be_attached()  # the first sample, drawn
    expect(cards.first.locator('[data-figure="cpu"]')).to_contain_text("%")
    poller = page.locator("#stats-poller")
    first = poller.get_attribute("data-fingerprint")
    expect(poller).not_to_have_attribute("data-fingerprint", first, timeout=25_000)  # the next poll
    expect(cpu.locator("path").first).to_be_attached()  # two samples make a line
    assert page.locator("text=docker inspect").count() == 0  # a viewer gets no docker tools
    assert refused == []


def test_it_operator_opens_docker_top_and_inspect_on_demand(personas, page, live_server, sign_in, sim, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = sim.location_base
    app, _ = make_app(personas.team, sim, user=personas.operator)
    sign_in("operator", personas.password)
    page.goto(f"{live_server.url}/operate/{app.pk}/stats/")
    card = page.locator(".stats-card").first
    card.locator('details[data-part="top"] summary').click()
    expect(card.locator('details[data-part="top"] table.stats-top th').nth(1)).to_have_text("PID")
    card.locator('details[data-part="inspect"] summary').click()
    inspect = card.locator('details[data-part="inspect"] [data-part-body="inspect"]')
    expect(inspect).to_contain_text("Restart count")
    expect(inspect).to_contain_text("Raw JSON")
