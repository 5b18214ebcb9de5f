"""What a team app costs, as FluxOS computes it: the source's FLUX price table and FluxOS's USD row.

`price_tables(deployment_information)` reads the tables from a source's
`/apps/deploymentinformation` answer; `app_costs` prices one canonical spec at a height.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from fluxpanel.fluxos.pricing import PriceTable, default_expire, fiat_and_flux_price

CENT = Decimal("0.01")
# The largest price the TeamApp columns hold (12 digits, 2 decimals); above it is garbage.
MAX_PRICE = Decimal("9999999999.99")
MAX_PRICE_ROWS = 200


def price_tables(information) -> tuple[PriceTable | None, PriceTable]:
    """(FLUX table from the source's `price` list or None when it gave none, USD table)."""
    usd = PriceTable.usd_default()
    rows = information.get("price") if isinstance(information, dict) else None
    if not isinstance(rows, list) or not rows or len(rows) > MAX_PRICE_ROWS:
        return None, usd
    if not all(isinstance(row, dict) and isinstance(row.get("height", -1), int | float) for row in rows):
        return None, usd
    try:
        return PriceTable.from_rows(rows), usd
    except (TypeError, ValueError):
        return None, usd


def _money(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE:
        return None
    return amount


EMPTY = {"monthly_usd": None, "renewal_usd": None, "renewal_flux": None}


def app_costs(spec: dict, height: int, flux_table: PriceTable | None, usd_table: PriceTable | None) -> dict:
    """`{monthly_usd, renewal_usd, renewal_flux}` (Decimals to the cent, or None each).

    Renewal is FluxOS's fiat and FLUX price of the spec for its own `expire` (FluxOS's fallback
    FLUX/USD rate); monthly is that USD price scaled to one month (`default_expire(height)` blocks).
    Without a FLUX table, or when FluxOS answers an error for the spec, every value is None.
    """
    if flux_table is None or not isinstance(spec, dict):
        return dict(EMPTY)
    try:
        price = fiat_and_flux_price(spec, height, None, usd_table=usd_table or PriceTable.usd_default(),
                                    flux_table=flux_table)
    except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError):
        return dict(EMPTY)
    if not isinstance(price, dict) or "error" in price:
        return dict(EMPTY)
    renewal_usd = _money(price.get("usd"))
    renewal_flux = _money(price.get("flux"))
    month = default_expire(height)
    expire = spec.get("expire")
    if isinstance(expire, bool) or not isinstance(expire, int) or expire <= 0:
        expire = month
    monthly = None
    if renewal_usd is not None:
        monthly = _money(renewal_usd * Decimal(month) / Decimal(expire))
    return {"monthly_usd": monthly, "renewal_usd": renewal_usd, "renewal_flux": renewal_flux}
