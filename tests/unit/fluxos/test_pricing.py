"""App prices against the FluxOS oracle (../shared/vectors/prices.json)."""

import pytest

from fluxpanel.fluxos import fluxconfig
from fluxpanel.fluxos.pricing import (
    PriceTable,
    app_price_per_month,
    consensus_min_price,
    fiat_and_flux_price,
    flux_onchain_price,
    flux_onchain_price_text,
)
from fluxpanel.fluxos.specs import format_spec
from tests.vectors import case_ids, load

CASES = load("prices")
FLUX_RATE = 0.5  # the rate the oracle used


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_it_price_per_month_with_the_flux_table(case):
    table = list(fluxconfig.FLUX_PRICE_TABLE)
    assert app_price_per_month(format_spec(case["spec"]), case["height"], table) == case["app_price_per_month_flux_table"]


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_it_price_per_month_with_the_usd_table(case):
    price = app_price_per_month(case["spec"], case["height"], [fluxconfig.USD_PRICE_ROW])
    expected = case["app_price_per_month_usd_table"]
    # FluxOS returns the string "0.99" when the minUSDPrice floor applies to a v4+ app.
    assert isinstance(price, str) == isinstance(expected, str)
    assert price == expected


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_it_flux_onchain_price(case):
    assert flux_onchain_price_text(case["spec"], case["height"], case["existing_app"]) == case["flux_onchain_price"]
    assert flux_onchain_price(case["spec"], case["height"], case["existing_app"]) == float(case["flux_onchain_price"])


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_it_fiat_and_flux_price(case):
    assert fiat_and_flux_price(case["spec"], case["height"], FLUX_RATE, case["existing_app"]) == case["fiat_and_flux_price"]


def test_it_float_rounding_is_javascripts():
    # 0.75 + 0.25 + 0.1 = 1.1 and 1.1 * 100 = 110.00000000000001, so Math.ceil gives 1.11.
    v3 = next(c for c in CASES if c["id"] == "v3_old_height")
    assert app_price_per_month(v3["spec"], 1_500_000, PriceTable.usd_default()) == 1.11


def test_it_price_table_picks_the_last_row_strictly_below_the_height():
    table = PriceTable.flux_default()
    assert table.row_for_height(1_597_156)["height"] == 1_594_832
    assert table.row_for_height(1_597_157)["height"] == 1_597_156
    replaced = PriceTable.from_rows([*fluxconfig.FLUX_PRICE_TABLE, {**fluxconfig.FLUX_PRICE_TABLE[-1], "height": 2_100_000, "cpu": 0.06}])
    base = next(c for c in CASES if c["id"] == "v8_small_3_instances")
    assert app_price_per_month(base["spec"], 2_200_000, replaced) > app_price_per_month(base["spec"], 2_200_000)


def test_it_enterprise_and_invalid_specs_report_errors_like_fluxos():
    base = next(c for c in CASES if c["id"] == "v8_small_3_instances")["spec"]
    assert fiat_and_flux_price({**base, "instances": 0}, 2_200_000, FLUX_RATE) == {
        "error": "Missing Flux App specification parameter instances"
    }
    assert fiat_and_flux_price({**base, "priceUSD": 0.5}, 2_200_000, FLUX_RATE) == {"error": "USD price is not valid"}


def test_it_price_usd_and_marketplace_multiplier():
    base = next(c for c in CASES if c["id"] == "v8_small_5_instances")["spec"]
    assert fiat_and_flux_price({**base, "priceUSD": 10}, 2_200_000, FLUX_RATE)["usd"] == 10
    priced = fiat_and_flux_price(base, 2_200_000, FLUX_RATE, marketplace_apps=[{"name": "oracle", "multiplier": 2}])
    assert priced["usd"] == 4.74


def test_it_syncthing_primary_discount():
    base = next(c for c in CASES if c["id"] == "v8_small_3_instances")["spec"]
    spec = {**base, "compose": [{**base["compose"][0], "containerData": "g:/data"}]}
    # 0.24 x 0.8 (small hardware) x 0.8 (g: mount) = 0.1536 -> 0.16
    assert flux_onchain_price_text(spec, 2_200_000) == "0.16"


def test_it_consensus_minimum_has_no_discounts():
    base = next(c for c in CASES if c["id"] == "v8_small_3_instances")
    assert consensus_min_price(base["spec"], 2_200_000) == 0.24
    assert float(base["flux_onchain_price"]) < 0.24


def _small_v3(**changes):
    spec = {
        "version": 3, "name": "oracleapp", "description": "small", "owner": "1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd",
        "repotag": "nginx:1.25.3", "ports": ["36001"], "domains": [""], "enviromentParameters": [], "commands": [],
        "containerPorts": ["80"], "containerData": "/data", "cpu": 0.1, "ram": 100, "hdd": 1, "tiered": False,
        "instances": 3,
    }
    spec.update(changes)
    return spec


def test_it_gives_untiered_v1_to_v3_apps_no_minimum_usd_price():
    # appUtilities.appPricePerMonth, v<=3 untiered branch: ceil to 0.01 and minPrice, no minUSDPrice.
    # 0.1 x 0.15 x 10 + 100 x 0.05 / 100 + 1 x 0.02 = 0.22 (USD table), after applyMinimumPriceOn3Instances.
    assert app_price_per_month(_small_v3(), 2_200_000, PriceTable.usd_default()) == 0.22


def test_it_sums_the_tiers_of_tiered_v1_to_v3_apps_and_floors_them_at_the_minimum_usd_price():
    # appUtilities.appPricePerMonth, v<=3 tiered branch: cpubasic + cpusuper + cpubamf (a sum, not the
    # v4+ average), and only this branch swaps in minUSDPrice: 0.66 < 0.99 -> Number(ceil("0.99" x 100) / 100).
    tiers = {f"{kind}{tier}": value for kind, value in (("cpu", 0.1), ("ram", 100), ("hdd", 1))
             for tier in ("basic", "super", "bamf")}
    tiered = _small_v3(tiered=True, **tiers)
    assert app_price_per_month(tiered, 2_200_000, PriceTable.usd_default()) == 0.99
    # With the FLUX table (no minUSDPrice) the sum shows: 3 x (0.1 x 0.03 x 10 + 100 x 0.01 / 100 + 0.004).
    assert app_price_per_month(tiered, 2_200_000) == 0.14
    assert app_price_per_month(_small_v3(), 2_200_000) == 0.05
