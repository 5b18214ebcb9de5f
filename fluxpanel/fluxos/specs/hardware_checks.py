"""`appValidator.checkHWParameters` (v1-v3) and `checkComposeHWParameters` (v4+)."""

from __future__ import annotations

from typing import Any

from .. import fluxconfig
from ..jsjson import get, js_add, js_gt, js_lt, js_mod, js_mul, js_to_string, js_truthy
from .errors import validator_error as _fail

_TIER_LIMITS = {
    tier: (
        fluxconfig.FLUX_SPECIFICS["cpu"][tier] - fluxconfig.LOCKED_SYSTEM_RESOURCES["cpu"],  # tenths of a core
        fluxconfig.FLUX_SPECIFICS["ram"][tier] - fluxconfig.LOCKED_SYSTEM_RESOURCES["ram"],
        fluxconfig.FLUX_SPECIFICS["hdd"][tier] - fluxconfig.LOCKED_SYSTEM_RESOURCES["hdd"],
    )
    for tier in ("cumulus", "nimbus", "stratus")
}
_TIER_SUFFIX = {"cumulus": ("basic", "Cumulus"), "nimbus": ("super", "Nimbus"), "stratus": ("bamf", "Stratus")}


def _check_one_hw_set(cpu: Any, ram: Any, hdd: Any, limits: tuple, label: str, name: str, fields: tuple) -> None:
    cpu_limit, ram_limit, hdd_limit = limits
    cpu10 = js_mul(cpu, 10)
    if js_mod(cpu10, 1) != 0 or js_gt(cpu10, cpu_limit) or js_lt(cpu, 0.1):
        raise _fail(f"CPU {label}badly assigned for {name}", fields[0])
    if js_mod(ram, 100) != 0 or js_gt(ram, ram_limit) or js_lt(ram, 100):
        raise _fail(f"RAM {label}badly assigned for {name}", fields[1])
    if js_mod(hdd, 1) != 0 or js_gt(hdd, hdd_limit) or js_lt(hdd, 1):
        raise _fail(f"SSD {label}badly assigned for {name}", fields[2])


def check_hw_parameters(spec: dict) -> None:
    """checkHWParameters (v1-v3): each value on the 0.1 core / 100 MB / 1 GB grid and within a Stratus node."""
    name = js_to_string(get(spec, "name"))
    _check_one_hw_set(
        get(spec, "cpu"), get(spec, "ram"), get(spec, "hdd"), _TIER_LIMITS["stratus"], "", name, ("cpu", "ram", "hdd")
    )
    if js_truthy(get(spec, "tiered")):
        for tier in ("cumulus", "nimbus", "stratus"):
            suffix, label = _TIER_SUFFIX[tier]
            keys = (f"cpu{suffix}", f"ram{suffix}", f"hdd{suffix}")
            _check_one_hw_set(*(get(spec, k) for k in keys), _TIER_LIMITS[tier], f"for {label} ", name, keys)


def _or(a: Any, b: Any) -> Any:
    return a if js_truthy(a) else b


def check_compose_hw_parameters(spec: dict) -> None:
    """checkComposeHWParameters (v4+): only the sums over components are limited."""
    compose = get(spec, "compose")
    name = js_to_string(get(spec, "name"))
    is_tiered = any(get(component, "tiered") is True for component in compose)
    totals: dict[str, Any] = {key: 0 for key in ("cpu", "ram", "hdd")}
    tier_totals = {tier: {"cpu": 0, "ram": 0, "hdd": 0} for tier in _TIER_SUFFIX}
    for component in compose:
        if is_tiered:
            for tier, (suffix, _label) in _TIER_SUFFIX.items():
                acc = tier_totals[tier]
                acc["cpu"] = js_add(acc["cpu"], js_mul(_or(get(component, f"cpu{suffix}"), get(component, "cpu")), 10))
                acc["ram"] = js_add(acc["ram"], _or(get(component, f"ram{suffix}"), get(component, "ram")))
                acc["hdd"] = js_add(acc["hdd"], _or(get(component, f"hdd{suffix}"), get(component, "hdd")))
        else:
            totals["cpu"] = js_add(totals["cpu"], js_mul(get(component, "cpu"), 10))
            totals["ram"] = js_add(totals["ram"], get(component, "ram"))
            totals["hdd"] = js_add(totals["hdd"], get(component, "hdd"))
    cpu_limit, ram_limit, hdd_limit = _TIER_LIMITS["stratus"]
    for key, limit, word in (("cpu", cpu_limit, "CPU"), ("ram", ram_limit, "RAM"), ("hdd", hdd_limit, "SSD")):
        if js_gt(totals[key], limit):
            raise _fail(f"Too much {word} resources assigned for {name}", "compose")
    if is_tiered:
        for tier in ("cumulus", "nimbus", "stratus"):
            limits = _TIER_LIMITS[tier]
            label = _TIER_SUFFIX[tier][1]
            for key, limit, word in zip(("cpu", "ram", "hdd"), limits, ("CPU", "RAM", "SSD"), strict=True):
                if js_gt(tier_totals[tier][key], limit):
                    raise _fail(f"Too much {word} for {label} resources assigned for {name}", "compose")
