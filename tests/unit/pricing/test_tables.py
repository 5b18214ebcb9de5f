"""The price tables and height the pricing pages use, from the team's sources (simulated and hostile)."""
import pytest
from django.core.cache import cache
from django.urls import reverse

from apps.deployments.models import AppSyncSettings
from apps.pricing.tables import DEFAULT_HEIGHT, price_context
from fluxpanel.fluxos.pricing import PriceTable
from tests.integration.nodes.hostile_node import HostileNode


@pytest.fixture(autouse=True)
def _loopback(settings):
    settings.ALLOW_ANY_NODE_URL = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def hostile():
    node = HostileNode()
    yield node
    node.close()


def use_gateway(team, url):
    AppSyncSettings.objects.update_or_create(team=team, defaults={"gateway_url": url})


def test_it_reads_the_table_and_height_of_the_first_answering_source(personas, fleet):
    use_gateway(personas.team, fleet.urls[0])
    context = price_context(personas.team)
    assert context.error == ""
    assert context.source_label == f"gateway {fleet.urls[0]}"
    assert context.height == fleet.call(lambda: fleet.fleet.chain.height())
    assert context.flux_table.rows[-1]["height"] == 1597156
    assert context.usd_table == PriceTable.usd_default()


def test_it_caches_the_context_per_team(personas, fleet):
    use_gateway(personas.team, fleet.urls[0])
    first = price_context(personas.team)
    fleet.inject(0, "down")
    assert price_context(personas.team) == first


def test_it_falls_back_to_fluxos_defaults_with_the_reason(personas, fleet):
    use_gateway(personas.team, fleet.urls[1])
    fleet.inject(1, "down")
    context = price_context(personas.team)
    assert context.height == DEFAULT_HEIGHT
    assert context.flux_table == PriceTable.flux_default()
    assert context.source_label == "FluxOS defaults"
    assert f"gateway {fleet.urls[1]}:" in context.error
    assert f"default price tables at height {DEFAULT_HEIGHT}" in context.error


@pytest.mark.parametrize("rows, words", [
    ("cheap", "gave no price table"),
    ([], "gave no price table"),
    ([1, 2], "not an object"),
    ([{"height": -1, "cpu": "0.1", "ram": 1, "hdd": 1, "minPrice": 1}], "non-numeric price field 'cpu'"),
    ([{"height": -1, "cpu": 0.1}], "without height"),
])
def test_it_refuses_a_hostile_price_table(personas, hostile, rows, words):
    hostile.answers["/apps/deploymentinformation"] = {"price": rows}
    hostile.answers["/daemon/getblockcount"] = 2_200_000
    use_gateway(personas.team, hostile.url)
    context = price_context(personas.team)
    assert context.source_label == "FluxOS defaults"
    assert words in context.error


def test_it_refuses_a_hostile_height(personas, hostile):
    hostile.answers["/apps/deploymentinformation"] = {"price": [{"height": -1, "cpu": 1, "ram": 1, "hdd": 1,
                                                                 "minPrice": 1}]}
    hostile.answers["/daemon/getblockcount"] = 1e20
    use_gateway(personas.team, hostile.url)
    context = price_context(personas.team)
    assert context.source_label == "FluxOS defaults" and context.error


def test_it_prices_with_the_source_table_on_the_page(personas, fleet, client_as):
    use_gateway(personas.team, fleet.urls[2])
    body = client_as("viewer").get(reverse("pricing:estimator")).content.decode()
    assert f"Prices from gateway {fleet.urls[2]} at height" in body
