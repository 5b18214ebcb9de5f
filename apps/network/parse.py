"""The stats API's `/fluxinfo` projection reduced to the figures the Network page shows.

Untrusted: the answer must be a list of at most MAX_NODES objects; a node entry whose tier,
version or EPS is of the wrong type or out of range is skipped, and when more than BAD_SHARE of
the entries are like that (or nothing usable is left) the whole answer is garbage and the previous
figures stay. No Django import.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

TIERS = ("CUMULUS", "NIMBUS", "STRATUS")
MAX_NODES = 60_000
BAD_SHARE = 0.05
MAX_EPS = 100_000.0
MAX_VERSIONS = 40  # the rest are counted as "other"
QUANTILES = 20  # EPS per tier kept at 5 % steps (21 points)
VERSION = re.compile(r"^\d{1,5}(\.\d{1,5}){1,3}$")


class Garbage(ValueError):
    """The answer is not a usable projection (the message says why, for the reason's detail)."""


@dataclass
class Figures:
    nodes: int = 0
    tiers: dict = field(default_factory=dict)  # tier -> nodes
    versions: dict = field(default_factory=dict)  # FluxOS version -> nodes
    arcane: int = 0
    eps: dict = field(default_factory=dict)  # tier -> 21 EPS quantiles, lowest first
    eps_by_ip: dict = field(default_factory=dict)  # "host:port" of the panel's nodes -> EPS
    skipped: int = 0

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> Figures | None:
        if not isinstance(data, dict) or not data:
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def ip_key(text) -> str | None:
    """`host:port` as fluxstats writes a node's ip (`1.2.3.4` or `1.2.3.4:16137`), port 16127 when
    none; None when it is not one."""
    if not isinstance(text, str) or not 0 < len(text) <= 60:
        return None
    host, _, port = text.strip().lower().partition(":")
    if not host or (port and not port.isdigit()):
        return None
    return f"{host}:{port or 16127}"


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _entry(item) -> tuple[str, str | None, bool, float | None, str | None]:
    """(tier, version, arcane, eps, ip key) of one node; Garbage when unusable."""
    if not isinstance(item, dict):
        raise Garbage("an entry is not an object")
    tier = item.get("tier")
    if not isinstance(tier, str) or tier.upper() not in TIERS:
        raise Garbage(f"tier {str(tier)[:20]!r}")
    flux, benchmark = item.get("flux") or {}, item.get("benchmark") or {}
    bench = benchmark.get("bench") or {} if isinstance(benchmark, dict) else None
    if not isinstance(flux, dict) or not isinstance(bench, dict):
        raise Garbage("flux or benchmark is not an object")
    version = flux.get("version")
    if version in (None, ""):
        version = None
    elif not isinstance(version, str) or len(version) > 32:
        raise Garbage(f"version {str(version)[:20]!r}")
    elif not VERSION.match(version):
        version = "other"  # a pre-release or a build tag: counted, never ranked
    eps = bench.get("eps")
    if eps is not None:
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) \
                or not 0 <= eps <= MAX_EPS:
            raise Garbage(f"eps {str(eps)[:20]!r}")
        eps = float(eps)
    return tier.upper(), version, bool(flux.get("arcaneVersion")), eps, ip_key(item.get("ip"))


def quantiles(values: list[float], steps: int = QUANTILES) -> list[float]:
    """`steps + 1` points from the lowest to the highest (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return []
    last = len(ordered) - 1
    return [round(ordered[round(last * i / steps)], 2) for i in range(steps + 1)]


def figures_of(data, wanted_ips=frozenset()) -> Figures:
    """The figures of a `/fluxinfo` projection; `wanted_ips` (ip keys of the panel's nodes) get
    their EPS kept for the benchmark standing."""
    if not isinstance(data, list):
        raise Garbage(f"the answer is a {type(data).__name__}, not a list of nodes")
    if not data:
        raise Garbage("the answer lists no nodes")
    if len(data) > MAX_NODES:
        raise Garbage(f"the answer lists {len(data)} nodes, more than {MAX_NODES}")
    out = Figures()
    versions: dict[str, int] = {}
    eps: dict[str, list[float]] = {tier: [] for tier in TIERS}
    first_bad = ""
    for item in data:
        try:
            tier, version, arcane, node_eps, ip = _entry(item)
        except Garbage as exc:
            out.skipped += 1
            first_bad = first_bad or str(exc)
            continue
        out.nodes += 1
        out.tiers[tier] = out.tiers.get(tier, 0) + 1
        if version:
            versions[version] = versions.get(version, 0) + 1
        out.arcane += arcane
        if node_eps is not None:
            eps[tier].append(node_eps)
            if ip in wanted_ips:
                out.eps_by_ip[ip] = node_eps
    if not out.nodes or out.skipped > BAD_SHARE * len(data):
        raise Garbage(f"{out.skipped} of {len(data)} entries unusable (first: {first_bad})")
    other = versions.pop("other", 0)
    ranked = sorted(versions.items(), key=lambda kv: (-kv[1], kv[0]))
    out.versions = dict(ranked[:MAX_VERSIONS])
    other += sum(count for _, count in ranked[MAX_VERSIONS:])
    if other:
        out.versions["other"] = other
    out.eps = {tier: quantiles(values) for tier, values in eps.items() if values}
    return out
