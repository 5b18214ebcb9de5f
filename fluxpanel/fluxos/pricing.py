"""FluxOS app prices, computed the way FluxOS computes them (IEEE doubles, FluxOS's operation order).

Reproduces, from RunOnFlux/flux 845aa9b (v8.17.0):

* `appUtilities.appPricePerMonth(spec, height, table)` -> `app_price_per_month`
* `appSpecHelpers.getAppFluxOnChainPrice(spec)` -> `flux_onchain_price` / `flux_onchain_price_text`
* `appSpecHelpers.getAppFiatAndFluxPrice` (POST /apps/calculatefiatandfluxprice and
  /apps/calculateprice) -> `fiat_and_flux_price`

Deliberately reproduced quirks:
* all arithmetic is float, rounded with `Math.ceil(x * 100) / 100` at FluxOS's points, so
  1.1 * 100 = 110.00000000000001 rounds up to 1.11 - Decimals would give different prices;
* `app_price_per_month` returns the *string* "0.99" (FluxOS's `toFixed(2)`) when the USD table's
  `minUSDPrice` floor applies to a v4+ app, and a number otherwise;
* the USD path rounds with `toFixed(2)` (half-up on the exact binary value), the FLUX path with
  `Math.ceil`; the previous spec of an update is priced at the *current* height and table;
* the hardware-size discount always applies to the on-chain FLUX estimate, but in the fiat path
  only to v1-3 specs or specs with fewer than 4 instances;
* v1-3 apps have one flat price (tiered: the sum of the tiers, and only then the minUSDPrice
  floor); v4+ apps are priced per instance (a third of the resources
  price, ceiled) and then scaled: +0.50 per extra instance when cheap, else ceil(p x extra) + p;
* for an update whose previous registration predates the PON fork, blocks after the fork count
  4x in the elapsed time (FluxOS's "normalisation"), and only the fiat path stretches the previous
  subscription across the fork.

What nodes accept on chain is stricter than `flux_onchain_price` (no discounts there); use
`consensus_min_price` for "will the network index this payment".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import fluxconfig
from .jsjson import (
    UNDEFINED,
    get,
    js_add,
    js_ceil,
    js_div,
    js_ge,
    js_gt,
    js_le,
    js_lt,
    js_number,
    js_truthy,
    strict_equals,
    to_fixed,
    to_js_value,
    to_number,
)
from .specs.errors import SpecError
from .specs.format import format_spec
from .specs.helpers import is_port_enterprise

ARCANE_ONLY = "Application Specifications can only be validated on a node running Arcane OS."


@dataclass(frozen=True)
class PriceTable:
    """A FluxOS price table: rows sorted by `height`; a block uses the last row below it.

    Defaults are FluxOS's config values; `from_rows` takes the merged table a node publishes
    (GET /apps/deploymentinformation `price`, or /apps/getappspecsusdprice for USD).
    """

    rows: tuple[dict, ...]

    @classmethod
    def flux_default(cls) -> PriceTable:
        return cls.from_rows(fluxconfig.FLUX_PRICE_TABLE)

    @classmethod
    def usd_default(cls) -> PriceTable:
        return cls.from_rows([fluxconfig.USD_PRICE_ROW])

    @classmethod
    def from_rows(cls, rows: Iterable[dict]) -> PriceTable:
        rows = [dict(to_js_value(row)) for row in rows]
        rows.sort(key=lambda row: to_number(row.get("height", -1)))  # stable, like FluxOS's sort
        return cls(tuple(rows))

    def row_for_height(self, height: int) -> dict:
        """The last row whose height is strictly below `height` (FluxOS: filter + last)."""
        candidates = [row for row in self.rows if js_lt(row.get("height"), height)]
        if not candidates:
            raise ValueError(f"no price row applies below height {height}")
        return candidates[-1]


def _as_table(table: PriceTable | Sequence[dict] | dict | None, default: Callable[[], PriceTable]) -> PriceTable:
    """The table given, or `default()` — built only when needed: parsing FluxOS's default table
    costs more than pricing a spec."""
    if table is None:
        return default()
    if isinstance(table, PriceTable):
        return table
    if isinstance(table, dict):
        return PriceTable.from_rows([table])
    return PriceTable.from_rows(table)


def _f(value: Any) -> float:
    return float(to_number(value))


def _ceil2(value: Any) -> float:
    """Math.ceil(value * 100) / 100."""
    return float(js_ceil(_f(value) * 100)) / 100


def _block_multiplier(height: Any) -> int:
    return fluxconfig.PON_BLOCK_MULTIPLIER if js_ge(height, fluxconfig.DAEMON_PON_FORK) else 1


def default_expire(height: Any) -> int:
    """Blocks in one month of subscription: 22000, or 88000 once the chain passed the PON fork."""
    return fluxconfig.BLOCKS_LASTING * _block_multiplier(height)


# --- appPricePerMonth ----------------------------------------------------------------------------


def app_price_per_month(spec: Any, height: int, table: PriceTable | Sequence[dict] | dict | None = None) -> float | str:
    """appUtilities.appPricePerMonth(formatted, height, table) for one month, all instances.

    `spec` may be raw: it is formatted first, as every FluxOS caller does (formatting is idempotent).
    Returns a float, or the string FluxOS returns (e.g. "0.99") when the minUSDPrice floor applies.
    """
    row = _as_table(table, PriceTable.flux_default).row_for_height(height)
    price = _price_per_month_js(format_spec(spec), height, row)
    return price if isinstance(price, str) else float(price)


def price_per_month(spec: dict, height: Any, row: dict) -> float | str:
    """appPricePerMonth on a spec as given (FluxOS prices stored records without re-formatting)."""
    return _price_per_month_js(to_js_value(spec), height, row)


def _price_per_month_js(spec: dict, height: Any, row: dict) -> float | str:
    """price_per_month of a spec already in the JS value model (the formatter's output, or a
    to_js_value result): the deep conversion is what pricing spends most of its time on."""
    if js_le(get(spec, "version"), 3):
        return _legacy_price(spec, height, row)
    return _compose_price(spec, height, row)


def _legacy_price(spec: dict, height: Any, row: dict) -> float:
    """v1-v3: one flat price for the app (no scope, static IP or instance factor), floored at minPrice.

    FluxOS has two branches here: a tiered app is priced on the *sum* of its three tiers (not their
    average, as v4+ components are) and only that branch applies the table's minUSDPrice floor;
    an untiered app never gets it.
    """
    tiered = js_truthy(get(spec, "tiered"))
    if tiered:
        cpu, ram, hdd = (
            js_add(js_add(get(spec, f"{kind}basic"), get(spec, f"{kind}super")), get(spec, f"{kind}bamf"))
            for kind in ("cpu", "ram", "hdd")
        )
    else:
        cpu, ram, hdd = get(spec, "cpu"), get(spec, "ram"), get(spec, "hdd")
    port = get(spec, "port")
    if js_truthy(port):
        premium_ports = 1 if is_port_enterprise(port) else 0
    else:
        ports = get(spec, "ports")
        premium_ports = sum(1 for p in ports if is_port_enterprise(p)) if isinstance(ports, list) else 0
    total: Any = _resource_price(cpu, ram, hdd, row) + premium_ports * _f(row["port"])
    minimum_usd = row.get("minUSDPrice")
    if (
        tiered
        and js_truthy(minimum_usd)
        and js_ge(height, fluxconfig.APPLY_MINIMUM_PRICE_ON_3_INSTANCES)
        and js_lt(total, minimum_usd)
    ):
        total = to_fixed(minimum_usd, 2)  # FluxOS swaps in the string; the ceil below makes it a number again
    price = _ceil2(total)
    if js_lt(price, row.get("minPrice")):
        price = _f(row["minPrice"])
    return price


def _resource_price(cpu: Any, ram: Any, hdd: Any, row: dict) -> float:
    """cpu x table.cpu x 10 (per 0.1 core) + ram x table.ram / 100 (per 100 MB) + hdd x table.hdd (per GB)."""
    return _f(cpu) * _f(row["cpu"]) * 10 + (_f(ram) * _f(row["ram"])) / 100 + _f(hdd) * _f(row["hdd"])


def _compose_price(spec: dict, height: Any, row: dict) -> float | str:
    """v4+: priced per instance (a third of the 3-instance base), then scaled to `instances`."""
    cpu: Any = 0
    ram: Any = 0
    hdd: Any = 0
    enterprise_ports = 0
    for component in get(spec, "compose"):
        if js_truthy(get(component, "tiered")):
            parts = [
                _f(js_add(js_add(get(component, f"{kind}basic"), get(component, f"{kind}super")), get(component, f"{kind}bamf"))) / 3
                for kind in ("cpu", "ram", "hdd")
            ]
        else:
            parts = [get(component, kind) for kind in ("cpu", "ram", "hdd")]
        cpu, ram, hdd = js_add(cpu, parts[0]), js_add(ram, parts[1]), js_add(hdd, parts[2])
        enterprise_ports += sum(1 for port in get(component, "ports") if is_port_enterprise(port))
    total = _resource_price(cpu, ram, hdd, row) + enterprise_ports * _f(row["port"])
    nodes = get(spec, "nodes")
    if (js_truthy(nodes) and js_truthy(len(nodes) if isinstance(nodes, list) else get(nodes, "length"))) or js_truthy(
        get(spec, "enterprise")
    ):
        total += _f(row["scope"])  # targeted nodes / enterprise
    if js_truthy(get(spec, "staticip")):
        total += _f(row["staticip"])

    price = _ceil2(total / 3)
    instances = get(spec, "instances")
    if js_gt(instances, 1) and js_ge(height, fluxconfig.APPLY_MINIMUM_FOR_EXTRA_INSTANCES):
        extra = _f(instances) - 1
        if price < 0.50 and extra > 2:
            price += extra * 0.50
        else:
            price = (float(js_ceil(price * extra * 100)) + float(js_ceil(price * 100))) / 100
    minimum_usd = row.get("minUSDPrice")
    if (
        js_truthy(minimum_usd)
        and js_ge(height, fluxconfig.APPLY_MINIMUM_PRICE_ON_3_INSTANCES)
        and js_lt(price, minimum_usd)
    ):
        return to_fixed(minimum_usd, 2)  # a string, exactly as FluxOS returns it
    return price


# --- shared pieces of the two price endpoints ----------------------------------------------------


def total_hw_requirements(spec: dict, tier: str = "bamf") -> dict:
    """hwRequirements.totalAppHWRequirements(spec, tier): cores, MB and GB the app needs on a node."""
    if js_le(get(spec, "version"), 3):
        if js_truthy(get(spec, "tiered")):
            return {kind: _or(get(spec, f"{kind}{tier}"), get(spec, kind)) for kind in ("cpu", "ram", "hdd")}
        return {kind: get(spec, kind) for kind in ("cpu", "ram", "hdd")}
    totals: dict[str, Any] = {"cpu": 0, "ram": 0, "hdd": 0}
    for component in get(spec, "compose"):
        for kind in totals:
            totals[kind] = js_add(totals[kind], _or(_or(get(component, f"{kind}{tier}"), get(component, kind)), 0))
    return totals


def _or(a: Any, b: Any) -> Any:
    return a if js_truthy(a) else b


def _hw_discount_factor(spec: dict) -> float:
    """x0.8 for small apps (< 3 cores, < 6000 MB, < 150 GB), x0.9 for medium (< 7, < 29000, < 370)."""
    hw = total_hw_requirements(spec, "bamf")
    if js_lt(hw["cpu"], 3) and js_lt(hw["ram"], 6000) and js_lt(hw["hdd"], 150):
        return 0.8
    if js_lt(hw["cpu"], 7) and js_lt(hw["ram"], 29000) and js_lt(hw["hdd"], 370):
        return 0.9
    return 1.0


def _uses_syncthing_primary(spec: dict) -> bool:
    """A `g:` (primary/standby with Syncthing) mount earns a x0.8 discount."""
    if js_le(get(spec, "version"), 3):
        return "g:" in str(get(spec, "containerData"))
    return any("g:" in str(get(component, "containerData")) for component in get(spec, "compose"))


def _elapsed_blocks(height: Any, registered_at: Any) -> float:
    """Blocks since the previous registration, counting post-PON blocks as 1/4 when it predates PON."""
    elapsed = _f(height) - _f(registered_at)
    if js_lt(registered_at, fluxconfig.DAEMON_PON_FORK) and js_ge(height, fluxconfig.DAEMON_PON_FORK):
        before = fluxconfig.DAEMON_PON_FORK - _f(registered_at)
        after = _f(height) - fluxconfig.DAEMON_PON_FORK
        elapsed = before + after * 4
    return elapsed


def _stretch_across_pon(registered_at: Any, expire: float) -> float:
    """Blocks a pre-PON subscription really lasts: the part after the fork runs 4x as many blocks."""
    if js_lt(registered_at, fluxconfig.DAEMON_PON_FORK):
        original_end = _f(registered_at) + expire
        if original_end > fluxconfig.DAEMON_PON_FORK:
            adjusted_end = fluxconfig.DAEMON_PON_FORK + (original_end - fluxconfig.DAEMON_PON_FORK) * 4
            return adjusted_end - _f(registered_at)
    return expire


def expiration_height(registered_at: Any, expire: Any) -> float:
    """Block at which a subscription ends (messageVerifier: x4 for the post-PON part of an old one)."""
    default = default_expire(registered_at)
    return _f(registered_at) + _stretch_across_pon(registered_at, _f(_or(expire, default)))


def _previous_expire(existing: dict, height: Any) -> float:
    previous_default = default_expire(get(existing, "height"))
    expire_in: Any = previous_default  # FluxOS first reads `.expire` of a number (always undefined)
    if js_gt(height, 1315000):
        expire_in = _or(get(existing, "expire"), previous_default)
    return _f(expire_in)


# --- getAppFluxOnChainPrice ----------------------------------------------------------------------


def flux_onchain_price_text(
    spec: Any, height: int, existing_app: dict | None = None, table: PriceTable | Sequence[dict] | None = None
) -> str:
    """getAppFluxOnChainPrice: the FLUX amount as FluxOS's 2-decimal string (e.g. "0.20")."""
    row = _as_table(table, PriceTable.flux_default).row_for_height(height)
    formatted = format_spec(spec)
    existing = to_js_value(existing_app) if existing_app else None
    return _flux_onchain_price_text(formatted, height, existing, row)


def _flux_onchain_price_text(formatted: dict, height: int, existing: Any, row: dict) -> str:
    """flux_onchain_price_text of the formatter's output and an existing app already in the JS
    value model. FluxOS formats the spec again here; formatting its own output changes nothing
    (tests/unit/fluxos/test_price_paths.py holds that for every spec vector), so it is skipped."""
    month = default_expire(height)
    price = _f(_price_per_month_js(formatted, height, row))
    price *= _f(_or(get(formatted, "expire"), month)) / month
    price = _ceil2(price)
    if existing:
        previous_expire = _previous_expire(existing, height)
        previous = _f(_price_per_month_js(existing, height, row))  # old spec, current height and table
        previous *= previous_expire / default_expire(get(existing, "height"))
        previous = _ceil2(previous)
        share_left = (previous_expire - _elapsed_blocks(height, get(existing, "height"))) / previous_expire
        if share_left > 0:
            price -= share_left * previous
    price *= _hw_discount_factor(formatted)
    if _uses_syncthing_primary(formatted):
        price *= 0.8
    price = _ceil2(price)
    if js_lt(price, row["minPrice"]):
        price = _f(row["minPrice"])
    return to_fixed(price, 2)


def flux_onchain_price(
    spec: Any, height: int, existing_app: dict | None = None, table: PriceTable | Sequence[dict] | None = None
) -> float:
    """getAppFluxOnChainPrice as a number: `float` of the exact 2-decimal string FluxOS returns."""
    return float(flux_onchain_price_text(spec, height, existing_app, table))


# --- consensus minimum (messageVerifier.checkAndRequestApp) --------------------------------------


def consensus_min_price(
    spec: Any, height: int, existing_app: dict | None = None, table: PriceTable | Sequence[dict] | None = None
) -> float:
    """The least FLUX nodes accept for the message: no discounts, 10% off for updates, >= minPrice."""
    row = _as_table(table, PriceTable.flux_default).row_for_height(height)
    formatted = format_spec(spec)
    price = _f(_price_per_month_js(formatted, height, row))
    price = _ceil2(price * _f(_or(get(formatted, "expire"), default_expire(height))) / default_expire(height))
    if existing_app:
        existing = to_js_value(existing_app)
        previous_height = get(existing, "height")
        previous_row = _as_table(table, PriceTable.flux_default).row_for_height(previous_height)
        previous_default = default_expire(previous_height)
        previous_expire = _f(_or(get(existing, "expire"), previous_default))
        previous = _ceil2(_f(_price_per_month_js(existing, previous_height, previous_row)) * previous_expire / previous_default)
        share_left = (previous_expire - (_f(height) - _f(previous_height))) / previous_expire
        price = (price - share_left * previous) * 0.9 if share_left > 0 else price * 0.9
        price = _ceil2(price)
    return max(price, _f(row["minPrice"]))


# --- what a new app's price depends on, besides its spec -----------------------------------------


def fresh_price_era(height: int, usd_table: PriceTable | None = None, flux_table: PriceTable | None = None) -> tuple:
    """Every input other than the spec that `fiat_and_flux_price(spec, height, None, usd_table=,
    flux_table=)` reads, for a spec with no existing app, no marketplace multiplier and FluxOS's
    fallback FLUX rate: the USD and FLUX rows in force, the month's length in blocks, and which of
    FluxOS's height-gated pricing rules apply. Two heights with the same era price every spec the
    same, so a price computed at one is the price at the other.

    Keep this in step with the functions above: any new `height` comparison in them belongs here.
    """
    usd_row = _as_table(usd_table, PriceTable.usd_default).row_for_height(height)
    flux_row = _as_table(flux_table, PriceTable.flux_default).row_for_height(height)
    return (
        tuple(sorted((str(k), repr(v)) for k, v in usd_row.items())),
        tuple(sorted((str(k), repr(v)) for k, v in flux_row.items())),
        default_expire(height),
        bool(js_ge(height, fluxconfig.APPLY_MINIMUM_FOR_EXTRA_INSTANCES)),
        bool(js_ge(height, fluxconfig.APPLY_MINIMUM_PRICE_ON_3_INSTANCES)),
    )


# --- getAppFiatAndFluxPrice ----------------------------------------------------------------------


def fiat_and_flux_price(
    spec: Any,
    height: int,
    flux_usd_rate: float | None,
    existing_app: dict | None = None,
    *,
    usd_table: PriceTable | Sequence[dict] | dict | None = None,
    flux_table: PriceTable | Sequence[dict] | None = None,
    marketplace_apps: Sequence[dict] = (),
    recent_update_heights: Sequence[int] = (),
) -> dict:
    """`data` of POST /apps/calculatefiatandfluxprice: {"usd", "flux", "fluxDiscount"}.

    Where FluxOS answers with an error (enterprise specs need an Arcane node, a spec the
    formatter refuses, "USD price is not valid"), returns {"error": <FluxOS's message>}.
    `marketplace_apps` is stats.runonflux.io/marketplace/listapps (`name`, `multiplier`);
    `recent_update_heights` are the heights of this app's recent update messages (free-update rule);
    `flux_usd_rate` None means FluxOS's own fallback rate (config `fluxUSDRate`, 0.6).
    """
    raw = to_js_value(spec)
    try:
        if js_ge(get(raw, "version"), 8) and js_truthy(get(raw, "enterprise")):
            raise SpecError(ARCANE_ONLY)  # checkAndDecryptAppSpecs only decrypts on ArcaneOS
        return _fiat_and_flux_price(
            raw, height, flux_usd_rate, existing_app, usd_table, flux_table, marketplace_apps, recent_update_heights
        )
    except SpecError as error:
        return {"error": str(error)}


def _fiat_and_flux_price(
    raw: Any, height: int, rate: float | None, existing_app: dict | None, usd_table: Any, flux_table: Any,
    marketplace_apps: Sequence[dict], recent_update_heights: Sequence[int],
) -> dict:
    formatted = format_spec(raw)
    existing = to_js_value(existing_app) if existing_app else None
    if existing and is_free_update(formatted, height, existing, recent_update_heights):
        return {"usd": 0, "flux": 0, "fluxDiscount": 0}

    row = _as_table(usd_table, PriceTable.usd_default).row_for_height(height)
    month = default_expire(height)
    expire_in = _f(_or(get(formatted, "expire"), month))
    price: Any = to_fixed(_f(_price_per_month_js(formatted, height, row)) * (expire_in / month), 2)
    if existing:
        # The fiat path (unlike the FLUX one) stretches a pre-PON subscription that ran past the fork.
        previous_expire = _stretch_across_pon(get(existing, "height"), _previous_expire(existing, height))
        previous = _f(_price_per_month_js(existing, height, row)) * (previous_expire / default_expire(get(existing, "height")))
        previous_text = to_fixed(previous, 2)
        share_left = (previous_expire - _elapsed_blocks(height, get(existing, "height"))) / previous_expire
        if share_left > 0:
            price = _f(price) - share_left * _f(previous_text)
    if js_le(get(formatted, "version"), 3) or js_lt(get(formatted, "instances"), 4):
        factor = _hw_discount_factor(formatted)
        if factor != 1.0:
            price = _f(price) * factor
    if _uses_syncthing_primary(formatted):
        price = _f(price) * 0.8

    price_usd = get(raw, "priceUSD")
    if js_truthy(price_usd):
        if js_lt(price_usd, price):
            raise SpecError("USD price is not valid")
        price = to_fixed(price_usd, 2)
    else:
        name = str(get(formatted, "name")).lower()
        for app in marketplace_apps:
            if name.startswith(str(app.get("name", "")).lower()):
                if js_gt(app.get("multiplier"), 1):
                    price = _f(price) * _f(app["multiplier"])
                break
        price = to_fixed(_f(price) * _f(row.get("multiplier", 1)), 2)
        if js_lt(price, row.get("minUSDPrice")):
            price = to_fixed(row["minUSDPrice"], 2)
    price = _subscription_discount(price, expire_in / month, row)

    if rate is None:
        rate = fluxconfig.FLUX_USD_RATE_FALLBACK  # what FluxOS uses when no rate service answers
    flux_from_usd = _f(js_div(price, rate)) * _f(row.get("fluxmultiplier", 1))
    flux_row = _as_table(flux_table, PriceTable.flux_default).row_for_height(height)
    chain = _f(_flux_onchain_price_text(formatted, height, existing, flux_row))
    if chain > flux_from_usd:
        return {"usd": js_number(_f(price)), "flux": js_number(_f(to_fixed(chain, 2))),
                "fluxDiscount": "Not possible to define discount"}
    discount = 100 - _f(row.get("fluxmultiplier", 1)) * 100
    return {"usd": js_number(_f(price)), "flux": js_number(_f(to_fixed(flux_from_usd, 2))), "fluxDiscount": js_number(discount)}


def _subscription_discount(price: Any, months: float, row: dict) -> Any:
    """3 % / 6 % / 12 % off for subscriptions of at least 3 / 6 / 9 months, then the USD floor again.

    The floor is re-applied in every case, so an explicit `priceUSD` below it is raised to it too.
    """
    factor = 0.88 if months >= 9 else 0.94 if months >= 6 else 0.97 if months >= 3 else 1.0
    price = to_fixed(_f(price) * factor if factor != 1.0 else price, 2)
    if js_lt(price, row.get("minUSDPrice")):
        price = to_fixed(row["minUSDPrice"], 2)
    return price


def is_free_update(formatted: dict, height: int, existing: dict, recent_update_heights: Sequence[int] = ()) -> bool:
    """appSpecHelpers.checkFreeAppUpdate: an update that adds no resources and no subscription time.

    Same instances, static IP (missing = false) and node count; the new expiry ends at most 8 blocks
    after the current one (which is stretched x4 past the PON fork); same component count with no
    component growing in cpu/ram/hdd or in enterprise ports; and few recent updates (none, or
    < 11 in 3600 blocks and < 9 in 1440 and < 6 in 720).
    """
    if not (js_truthy(get(existing, "expire")) and js_truthy(get(existing, "height")) and js_truthy(get(formatted, "expire"))):
        return False
    current_end = expiration_height(get(existing, "height"), get(existing, "expire"))
    extension = _f(height) + _f(get(formatted, "expire")) - current_end
    same_nodes = _count(get(formatted, "nodes")) == _count(get(existing, "nodes"))
    same_staticip = strict_equals(_bool_or_false(get(formatted, "staticip")), _bool_or_false(get(existing, "staticip")))
    same_instances = strict_equals(get(formatted, "instances"), get(existing, "instances"))
    if not (same_nodes and same_staticip and same_instances and extension <= 8):
        return False
    new_compose, old_compose = get(formatted, "compose"), get(existing, "compose")
    if not isinstance(new_compose, list) or not isinstance(old_compose, list) or len(new_compose) != len(old_compose):
        return False
    for new, old in zip(new_compose, old_compose, strict=True):
        if any(js_gt(get(new, kind), get(old, kind)) for kind in ("cpu", "ram", "hdd")):
            return False
        if _enterprise_port_count(new) > _enterprise_port_count(old):
            return False
    recent = [h for h in recent_update_heights if h > height - 3600]
    if not recent:
        return True
    if len(recent) < 11:
        recent = [h for h in recent if h > height - 1440]
        if len(recent) < 9:
            recent = [h for h in recent if h > height - 720]
            return len(recent) < 6
    return False


def _bool_or_false(value: Any) -> Any:
    """`value ?? false`."""
    return False if value is None or value is UNDEFINED else value


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def _enterprise_port_count(component: Any) -> int:
    ports = get(component, "ports")
    return sum(1 for port in ports if is_port_enterprise(port)) if isinstance(ports, list) else 0
