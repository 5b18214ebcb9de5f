"""Price a spec exactly as FluxOS does, at a height, with the team's price tables.

The panel calls no FLUX/USD rate service, so the FLUX amount uses FluxOS's own fallback rate
(config `fluxUSDRate`), which the page states.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.pricing.tables import PriceContext
from fluxpanel.fluxos import fluxconfig
from fluxpanel.fluxos.pricing import (
    app_price_per_month,
    consensus_min_price,
    default_expire,
    fiat_and_flux_price,
)
from fluxpanel.fluxos.specs.errors import SpecError

FLUX_RATE = fluxconfig.FLUX_USD_RATE_FALLBACK
ESTIMATE_NAME = "estimate"
ESTIMATE_OWNER = "1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd"  # any valid ZelID: the owner does not change a price


def resources_spec(*, cpu, ram: int, hdd: int, instances: int, months: int, staticip: bool,
                   enterprise: bool, height: int) -> dict:
    """A v8 one-component spec of these resources, for `months` months at `height`."""
    return {
        "version": 8, "name": ESTIMATE_NAME, "description": "Price estimate", "owner": ESTIMATE_OWNER,
        "compose": [{
            "name": "app", "description": "app", "repotag": "nginx:latest", "ports": [36001],
            "domains": [""], "environmentParameters": [], "commands": [], "containerPorts": [80],
            "containerData": "/data", "cpu": float(cpu), "ram": int(ram), "hdd": int(hdd),
            "repoauth": "",
        }],
        "instances": int(instances), "contacts": [], "geolocation": [],
        "expire": int(months) * default_expire(height), "nodes": [], "staticip": bool(staticip),
        "enterprise": "enterprise" if enterprise else "",
    }


@dataclass
class Estimate:
    height: int
    usd: Any = None
    flux: Any = None
    flux_discount: Any = None
    per_month_usd: Any = None
    consensus_min_flux: Any = None
    usd_row: dict = field(default_factory=dict)
    flux_row: dict = field(default_factory=dict)
    error: str = ""  # FluxOS's words for the USD/FLUX price ({"error": …})
    other_errors: list[str] = field(default_factory=list)
    rate: float = FLUX_RATE


def _attempt(estimate: Estimate, compute):
    try:
        return compute()
    except (SpecError, ValueError, TypeError, KeyError) as error:
        message = str(error) if isinstance(error, ValueError) else "the spec has a field of the wrong kind"
        if message not in estimate.other_errors and message != estimate.error:
            estimate.other_errors.append(message)
        return None


def estimate(spec: dict, height: int, context: PriceContext) -> Estimate:
    result = Estimate(height=height)
    result.usd_row = _attempt(result, lambda: context.usd_table.row_for_height(height)) or {}
    result.flux_row = _attempt(result, lambda: context.flux_table.row_for_height(height)) or {}
    priced = _attempt(result, lambda: fiat_and_flux_price(
        spec, height, None, usd_table=context.usd_table, flux_table=context.flux_table))
    if isinstance(priced, dict):
        if "error" in priced:
            result.error = str(priced["error"])
        else:
            result.usd, result.flux = priced.get("usd"), priced.get("flux")
            result.flux_discount = priced.get("fluxDiscount")
    result.per_month_usd = _attempt(result, lambda: app_price_per_month(spec, height, context.usd_table))
    result.consensus_min_flux = _attempt(result, lambda: consensus_min_price(spec, height, table=context.flux_table))
    return result
