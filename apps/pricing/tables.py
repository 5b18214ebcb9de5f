"""The price tables and chain height the pricing pages use, from the team's first answering source.

Each source is an untrusted peer: its `price` rows must be a non-empty list of dicts with numeric
fields, its height a whole number in range; one that fails is skipped with a human reason. With no
answering source the page uses FluxOS's own default tables and says so. Cached 5 minutes per team.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from apps.deployments.sources import team_sources
from fluxpanel.fluxos.client import MAX_HEIGHT, FluxClientError
from fluxpanel.fluxos.pricing import PriceTable

CACHE_SECONDS = 300
MAX_ROWS = 200
PRICE_FIELDS = ("height", "cpu", "ram", "hdd", "minPrice", "port", "scope", "staticip")
# The height used when nothing answers (a recent post-PON-fork block; the page lets the user set one).
DEFAULT_HEIGHT = 2_200_000


@dataclass(frozen=True)
class PriceContext:
    height: int
    flux_table: PriceTable
    usd_table: PriceTable
    source_label: str  # "node n1 (…)" or "FluxOS defaults"
    error: str = ""  # why the defaults are used ("" when a source answered)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def valid_rows(rows) -> list[dict]:
    """The price rows a source gave, or ValueError with what is wrong with them."""
    if not isinstance(rows, list) or not rows:
        raise ValueError("gave no price table")
    if len(rows) > MAX_ROWS:
        raise ValueError(f"gave a price table of {len(rows)} rows (at most {MAX_ROWS})")
    for row in rows:
        if not isinstance(row, dict):
            raise ValueError("gave a price row that is not an object")
        for field in PRICE_FIELDS:
            if field in row and not _is_number(row[field]):
                raise ValueError(f"gave a non-numeric price field {field!r}")
        if not all(field in row for field in ("height", "cpu", "ram", "hdd", "minPrice")):
            raise ValueError("gave a price row without height, cpu, ram, hdd and minPrice")
    return rows


def valid_height(height) -> int:
    if not isinstance(height, int) or isinstance(height, bool) or not 0 < height < MAX_HEIGHT:
        raise ValueError("gave a block height that is not a whole number in range")
    return height


def _cache_key(team) -> str:
    return f"pricing:context:{team.pk}"


def default_context(error: str) -> PriceContext:
    return PriceContext(DEFAULT_HEIGHT, PriceTable.flux_default(), PriceTable.usd_default(),
                        "FluxOS defaults", error)


def _from_sources(team) -> PriceContext:
    sources = team_sources(team)
    if not sources:
        return default_context("No source node, gateway or confirmed node to ask: using FluxOS's default "
                               f"price tables at height {DEFAULT_HEIGHT}.")
    reasons = []
    for source in sources:
        try:
            client = source.client()
            info = client.deployment_information()
            if not isinstance(info, dict):
                raise ValueError("is not a FluxOS answer")
            rows = valid_rows(info.get("price"))
            height = valid_height(client.block_count())
            flux_table = PriceTable.from_rows(rows)
            flux_table.row_for_height(height)
        except (FluxClientError, ValueError) as error:
            reasons.append(f"{source.label}: {error}")
            continue
        # Nodes answer GET /apps/getappspecsusdprice with their config value: FluxOS's default.
        return PriceContext(height, flux_table, PriceTable.usd_default(), source.label)
    return default_context("No source answered (" + "; ".join(reasons)[:600]
                           + f"): using FluxOS's default price tables at height {DEFAULT_HEIGHT}.")


def price_context(team) -> PriceContext:
    """The team's price context (cached 5 minutes per team)."""
    key = _cache_key(team)
    context = cache.get(key)
    if context is None:
        context = _from_sources(team)
        cache.set(key, context, CACHE_SECONDS)
    return context
