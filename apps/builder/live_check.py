"""The Build tab's live result: FluxOS's error texts at their fields, and the price.

The core raises FluxOS's first error with the field it concerns (`SpecError.field`). To show
errors of independent fields too, the same core check runs once more per component on a spec
whose other components are the first valid one (or left out), so each component's first error
is attributed to it. Nothing here calls a node: the height and price tables are the team's price
context (apps.pricing.tables, the Pricing page's, cached per team), or FluxOS's defaults.
"""
from __future__ import annotations

import copy
import json
from datetime import timedelta

from django.utils import timezone

from apps.nodes.models import BLOCK_SECONDS
from apps.pricing.tables import DEFAULT_HEIGHT, PriceContext, default_context
from fluxpanel.fluxos import pricing
from fluxpanel.fluxos.specs import SpecError, check_spec
from fluxpanel.fluxos.specs.helpers import is_port_banned, is_port_enterprise

__all__ = ["DEFAULT_HEIGHT", "live_result"]


def _first_error(spec: dict, height: int) -> SpecError | None:
    try:
        check_spec(spec, height)
    except SpecError as error:
        return error
    except Exception as error:  # noqa: BLE001 - a malformed draft must not 500 the editor
        return SpecError(str(error))
    return None


def field_errors(spec: dict, height: int) -> dict[str, str]:
    """{field path: FluxOS's message}; "" key for an error with no field."""
    errors: dict[str, str] = {}
    first = _first_error(spec, height)
    if first is None:
        return errors
    errors[first.field or ""] = first.message
    compose = spec.get("compose") or []
    if len(compose) > 1:
        for index, component in enumerate(compose):
            alone = copy.deepcopy(spec)
            alone["compose"] = [copy.deepcopy(component)]
            error = _first_error(alone, height)
            if error is not None and error.field and error.field.startswith("compose[0]"):
                errors.setdefault(error.field.replace("compose[0]", f"compose[{index}]", 1), error.message)
    return errors


def notices(spec: dict) -> list[str]:
    """Said before signing: banned/enterprise ports and ports used twice."""
    out, seen = [], {}
    compose = spec.get("compose")
    for component in compose if isinstance(compose, list) else []:
        ports = component.get("ports") if isinstance(component, dict) else None
        for port in ports if isinstance(ports, list) else []:
            if isinstance(port, (int, float)):
                if is_port_banned(port):
                    out.append(f"Port {port} of {component.get('name')} is banned on Flux.")
                elif is_port_enterprise(port) and not spec.get("enterprise"):
                    out.append(f"Port {port} of {component.get('name')} is for enterprise apps only.")
                if port in seen:
                    out.append(f"Port {port} is used by {seen[port]} and {component.get('name')}.")
                seen.setdefault(port, component.get("name"))
    return out


# FluxOS refuses an expire this far out long before; beyond it no date is shown (and none overflows).
MAX_EXPIRE_SHOWN = 100_000_000

_PRICE_CACHE: dict[str, dict] = {}
_PRICE_CACHE_SIZE = 512
# Fields the price cannot depend on (FluxOS prices hardware, instances, expire, ports, flags):
# typing in them must not re-run the pricing core on each keystroke.
_UNPRICED_TOP = ("description", "contacts", "geolocation")
_UNPRICED_COMPONENT = ("description",)


def _price_key(spec: dict, context: PriceContext, existing: dict | None) -> str:
    trimmed = {k: v for k, v in spec.items() if k not in _UNPRICED_TOP}
    if isinstance(trimmed.get("compose"), list):
        trimmed["compose"] = [{k: v for k, v in c.items() if k not in _UNPRICED_COMPONENT} if isinstance(c, dict) else c
                              for c in trimmed["compose"]]
    # The era names all a new app's price takes from the height and tables (issue 13's key); an
    # update's also depends on the blocks elapsed since the live spec, so on the height itself.
    era = pricing.fresh_price_era(context.height, context.usd_table, context.flux_table)
    height = context.height if existing else None
    return json.dumps([repr(era), height, trimmed, existing], sort_keys=True, default=str)


def price(spec: dict, context: PriceContext, existing: dict | None = None) -> dict:
    """USD and FLUX for the chosen expire and for a month, as FluxOS asks them at the context's
    height with its tables (for an update, `existing` is the live spec with its height), cached."""
    key = _price_key(spec, context, existing)
    cached = _PRICE_CACHE.get(key)
    if cached is None:
        if len(_PRICE_CACHE) >= _PRICE_CACHE_SIZE:
            _PRICE_CACHE.clear()
        cached = _PRICE_CACHE[key] = _price(spec, context, existing)
    return cached


def _price(spec: dict, context: PriceContext, existing: dict | None) -> dict:
    tables = {"usd_table": context.usd_table, "flux_table": context.flux_table}
    result = pricing.fiat_and_flux_price(spec, context.height, None, existing, **tables)
    month_spec = dict(spec, expire=pricing.default_expire(context.height))
    month = pricing.fiat_and_flux_price(month_spec, context.height, None, existing, **tables)
    return {"expire": result, "month": month, "default_table": bool(context.error),
            "source": context.source_label}


def expiry(spec: dict, height: int) -> dict:
    month = pricing.default_expire(height)
    options = [(n, n * month) for n in (1, 3, 6, 12)]
    expire = spec.get("expire")
    reaches = None
    if isinstance(expire, (int, float)) and not isinstance(expire, bool) and 0 < expire <= MAX_EXPIRE_SHOWN:
        reaches = timezone.now() + timedelta(seconds=expire * BLOCK_SECONDS)
    return {"options": options, "reaches": reaches}


def live_result(spec: dict, context: PriceContext | None = None, existing: dict | None = None) -> dict:
    context = context or default_context("")
    height = context.height
    errors = field_errors(spec, height)
    return {"errors": errors, "general_error": errors.get(""), "notices": notices(spec),
            "price": price(spec, context, existing) if not errors else None,
            "expiry": expiry(spec, height), "height": height}
