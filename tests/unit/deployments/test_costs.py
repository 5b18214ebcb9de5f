"""Stored app prices against the FluxOS oracle (../shared/vectors/prices.json) where they apply."""
from decimal import Decimal

import pytest

from apps.deployments.costs import app_costs, price_tables
from fluxpanel.fluxos import fluxconfig
from fluxpanel.fluxos.pricing import PriceTable, default_expire
from tests.vectors import case_ids, load

# app_costs prices a subscription renewed as it is: the oracle's cases without an existing app.
CASES = [case for case in load("prices") if case["existing_app"] is None]
FLUX_TABLE = PriceTable.from_rows(fluxconfig.FLUX_PRICE_TABLE)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_it_renewal_usd_is_fluxos_price(case):
    costs = app_costs(case["spec"], case["height"], FLUX_TABLE, PriceTable.usd_default())
    expected = case["fiat_and_flux_price"]
    if "error" in expected:
        assert costs == {"monthly_usd": None, "renewal_usd": None, "renewal_flux": None}
        return
    assert costs["renewal_usd"] == Decimal(str(expected["usd"])).quantize(Decimal("0.01"))
    assert costs["renewal_flux"] > 0 and costs["renewal_flux"].as_tuple().exponent == -2
    expire = case["spec"].get("expire") or default_expire(case["height"])
    monthly = costs["renewal_usd"] * default_expire(case["height"]) / expire
    assert costs["monthly_usd"] == monthly.quantize(Decimal("0.01"))


def test_it_twelve_months_cost_less_per_month_than_one():
    by_id = {case["id"]: case for case in CASES}
    one = app_costs(by_id["v8_small_3_instances"]["spec"], 2200000, FLUX_TABLE, None)
    year = app_costs(by_id["v8_expire_1056000_12_months"]["spec"], 2200000, FLUX_TABLE, None)
    assert year["monthly_usd"] < one["monthly_usd"]


def test_it_without_a_flux_table_there_is_no_price():
    spec = CASES[0]["spec"]
    assert app_costs(spec, 2200000, None, None)["renewal_usd"] is None


@pytest.mark.parametrize("answer", [None, {}, {"price": "x"}, {"price": [1, 2]}, {"price": []},
                                    {"price": [{"height": "abc"}]}, [1]])
def test_it_a_garbage_price_table_gives_none(answer):
    flux, usd = price_tables(answer)
    assert flux is None and usd is not None


def test_it_reads_the_source_price_table():
    rows = [{"height": -1, "cpu": 3, "ram": 1, "hdd": 0.5, "minPrice": 1, "port": 2, "scope": 6, "staticip": 3}]
    flux, usd = price_tables({"price": rows})
    assert flux.rows[0]["cpu"] == 3


def test_it_a_garbage_spec_gives_no_price():
    assert app_costs({"version": "x"}, 2200000, FLUX_TABLE, None)["renewal_usd"] is None
