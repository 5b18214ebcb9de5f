"""`fresh_price_era`: two heights with the same era price every new spec the same (the app sync
reuses a stored price on that promise), and each height-gated rule starts a new era."""
from __future__ import annotations

import random

import pytest

from fluxpanel.fluxos import fluxconfig
from fluxpanel.fluxos.pricing import PriceTable, fiat_and_flux_price, fresh_price_era
from tests.vectors import load

NEW_APP_CASES = [case for case in load("prices") if not case.get("existing_app")]
FLUX = PriceTable.flux_default()
USD = PriceTable.usd_default()
# Every height where a rule or a row could change, and the blocks on either side.
EDGES = sorted({fluxconfig.DAEMON_PON_FORK, fluxconfig.APPLY_MINIMUM_PRICE_ON_3_INSTANCES,
                fluxconfig.APPLY_MINIMUM_FOR_EXTRA_INSTANCES,
                *(int(row["height"]) for row in FLUX.rows if int(row["height"]) > 0)})


def _price(spec, height):
    return fiat_and_flux_price(spec, height, None, usd_table=USD, flux_table=FLUX)


def _heights() -> list[int]:
    rng = random.Random(7)
    around = [h + d for h in EDGES for d in (-1, 0, 1, 2)]
    return sorted({h for h in around + [rng.randrange(1_000_000, 3_000_000) for _ in range(40)] if h > 0})


@pytest.mark.parametrize("case", NEW_APP_CASES, ids=[c["id"] for c in NEW_APP_CASES])
def test_it_same_era_means_same_price(case):
    by_era: dict = {}
    for height in _heights():
        try:
            era = fresh_price_era(height, USD, FLUX)
        except ValueError:  # no price row below this height
            continue
        by_era.setdefault(era, []).append(height)
    assert len(by_era) > 3  # the heights really cross eras
    for heights in by_era.values():
        prices = {repr(_price(case["spec"], h)) for h in heights}
        assert len(prices) == 1, (heights, prices)


@pytest.mark.parametrize("gate", ["APPLY_MINIMUM_FOR_EXTRA_INSTANCES", "APPLY_MINIMUM_PRICE_ON_3_INSTANCES",
                                  "DAEMON_PON_FORK"])
def test_it_each_height_rule_starts_a_new_era(gate):
    height = getattr(fluxconfig, gate)
    assert fresh_price_era(height - 1, USD, FLUX) != fresh_price_era(height, USD, FLUX)


def test_it_a_new_price_row_starts_a_new_era():
    row_height = max(int(row["height"]) for row in FLUX.rows)
    # A row applies strictly above its height.
    assert fresh_price_era(row_height, USD, FLUX) != fresh_price_era(row_height + 1, USD, FLUX)
    assert fresh_price_era(row_height + 1, USD, FLUX) == fresh_price_era(row_height + 5000, USD, FLUX)
