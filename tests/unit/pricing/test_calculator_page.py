"""The calculator on /pricing/: FluxOS's prices through the page, and its error messages."""
import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from apps.pricing.calculator import FLUX_RATE, resources_spec
from fluxpanel.fluxos.pricing import fiat_and_flux_price
from tests.vectors import load

CASES = {case["id"]: case for case in load("prices")}
PAGE_CASES = ["v8_small_5_instances", "v8_medium_discount_tier", "v8_staticip", "v8_expire_528000_6_months",
              "v7_nodes_scope", "v3_enterprise_port_old_height"]


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def price(client, **data):
    return client.get(reverse("pricing:estimator"), data, headers={"HX-Request": "true", "HX-Target": "price-result"})


@pytest.mark.parametrize("case_id", PAGE_CASES)
def test_it_agrees_with_the_fluxos_vectors(case_id, client_as):
    case = CASES[case_id]
    response = price(client_as("viewer"), mode="spec", spec=json.dumps(case["spec"]), height=case["height"])
    assert response.status_code == 200
    body = response.content.decode()
    expected = case["fiat_and_flux_price"]
    assert f"<th>USD</th><td>{expected['usd']}</td>" in body
    # The page uses FluxOS's fallback rate (0.6), the vectors 0.5: same FluxOS computation, other rate.
    flux = fiat_and_flux_price(case["spec"], case["height"], FLUX_RATE)["flux"]
    assert f"<th>FLUX</th><td>{flux} " in body
    assert f"{case['app_price_per_month_usd_table']} USD" in body
    assert f"<th>Height</th><td>{case['height']}</td>" in body
    assert "fallback rate of 0.6" in body


def test_it_prices_resources_as_a_v8_spec(client_as):
    response = price(client_as("viewer"), mode="resources", cpu="0.5", ram=500, hdd=5, instances=5, months=1,
                     height=2_200_000)
    assert "<th>USD</th><td>2.37</td>" in response.content.decode()  # = v8_small_5_instances
    spec = resources_spec(cpu=0.5, ram=500, hdd=5, instances=3, months=6, staticip=False, enterprise=False,
                          height=2_200_000)
    assert spec["expire"] == 528000


def test_it_shows_the_enterprise_error_verbatim(client_as):
    response = price(client_as("viewer"), mode="resources", cpu="0.5", ram=500, hdd=5, instances=3, months=1,
                     enterprise="on", height=2_200_000)
    assert "FluxOS: Application Specifications can only be validated on a node running Arcane OS." in (
        response.content.decode())


def test_it_shows_fluxos_formatter_errors(client_as):
    spec = {**CASES["v8_small_3_instances"]["spec"], "instances": 0}
    response = price(client_as("viewer"), mode="spec", spec=json.dumps(spec), height=2_200_000)
    assert "Missing Flux App specification parameter instances" in response.content.decode()


def test_it_says_when_the_json_is_bad(client_as):
    response = price(client_as("viewer"), mode="spec", spec="{not json")
    assert response.status_code == 200
    assert "This is not valid JSON" in response.content.decode()
    response = price(client_as("viewer"), mode="spec", spec="[1, 2]")
    assert "must be a JSON object" in response.content.decode()


def test_it_refuses_a_pasted_key(client_as):
    wif = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"
    response = price(client_as("viewer"), mode="spec", spec=json.dumps({"key": wif}))
    assert response.status_code == 400
    assert "Never paste a private key" in response.content.decode()


def test_it_uses_the_defaults_without_a_source_and_says_so(client_as):
    response = client_as("viewer").get(reverse("pricing:estimator"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "FluxOS defaults" in body and "default price tables at height 2200000" in body
    assert 'hx-trigger="input changed delay:300ms' in body
