"""The pricing core's shortcuts stay exact: formatting FluxOS's own output changes nothing (so the
FLUX price need not format the spec a second time, as FluxOS does), and a spec already in the JS
value model prices as its raw form does."""
import json

import pytest

from fluxpanel.fluxos.jsjson import to_js_value
from fluxpanel.fluxos.pricing import PriceTable, _price_per_month_js, price_per_month
from fluxpanel.fluxos.specs import SpecError, format_spec
from tests.sim.fluxnode_world import make_catalogue
from tests.vectors import case_ids, load

SPECS = load("specs")
PRICES = load("prices")


def _formatted_or_none(spec):
    try:
        return format_spec(spec)
    except SpecError:
        return None


FORMATTABLE = [case for case in SPECS + PRICES if _formatted_or_none(case["spec"]) is not None]


@pytest.mark.parametrize("case", FORMATTABLE, ids=case_ids(FORMATTABLE))
def test_it_formatting_the_formatters_output_changes_nothing(case):
    once = format_spec(case["spec"])
    twice = format_spec(once)
    # Same keys in the same order, same values of the same JS types.
    assert json.dumps(twice) == json.dumps(once)
    assert twice == once


def test_it_holds_for_the_simulated_networks_specs_too():
    for app in make_catalogue(7, 300, 2_200_000, apps=300).values():
        once = format_spec(app.spec)
        assert json.dumps(format_spec(once)) == json.dumps(once)


@pytest.mark.parametrize("case", PRICES, ids=case_ids(PRICES))
def test_it_prices_a_converted_spec_as_its_raw_form(case):
    formatted = _formatted_or_none(case["spec"])
    if formatted is None:
        pytest.skip("FluxOS refuses this spec: nothing to price")
    row = PriceTable.flux_default().row_for_height(case["height"])
    assert _price_per_month_js(to_js_value(formatted), case["height"], row) == \
        price_per_month(formatted, case["height"], row)
