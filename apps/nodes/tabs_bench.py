"""The benchmarks tab: each fluxbench figure against the node tier's FluxOS minimum.

FluxOS's own figures (v8.17.0), nothing else:
- CPU threads and RAM: idService.confirmNodeTierHardware, per tier and collateral (old 10000 /
  25000 / 100000, new 1000 / 12500 / 40000); below them FluxOS refuses logins with "Minimum
  hardware required for FluxNode tier not met".
- Storage: config fluxSpecifics.hdd, the SSD FluxOS counts for the tier (220 / 440 / 880 GB).
- Fluxbench version: config minimumFluxBenchAllowedVersion (6.2.0).
- EPS and disk write speed: fluxbench decides those; FluxOS holds no minimum, so none is shown.
Pass or fail of the whole benchmark is FluxOS's rule (benchmarkService, fluxNodeService): the
benchmark `status` is the tier reached (CUMULUS, NIMBUS, STRATUS), anything else failed; the
reason is fluxbench's `error` text, else its `benchmarking` state.
"""
from __future__ import annotations

from apps.nodes.probe import version_key
from apps.nodes.tabs_common import DASH, Check, figure, mapping, optional, shaped, text
from apps.nodes.tabs_daemon import MIN_BENCH_VERSION

VALID_TIERS = ("CUMULUS", "NIMBUS", "STRATUS")
# (tier, new collateral) -> (CPU threads, RAM GB) from confirmNodeTierHardware.
HARDWARE_MINIMUMS = {
    ("CUMULUS", False): (2, 3), ("NIMBUS", False): (4, 7), ("STRATUS", False): (8, 30),
    ("CUMULUS", True): (4, 3), ("NIMBUS", True): (8, 30), ("STRATUS", True): (16, 61),
}
TIER_STORAGE_GB = {"CUMULUS": 220, "NIMBUS": 440, "STRATUS": 880}
NO_MINIMUM = "no FluxOS minimum known"


def parse_tier(value) -> tuple[str | None, bool]:
    """/flux/nodetier: `cumulus` … (old collateral) or `cumulus_new` … (new)."""
    word = value.strip().lower() if isinstance(value, str) else ""
    tier, _, suffix = word.partition("_")
    return (tier.upper() if tier.upper() in VALID_TIERS else None), suffix == "new"


def at_least(label: str, value, minimum: float | None, unit: str, *, why: str = "") -> Check:
    measured = figure(value)
    shown = DASH if measured is None else f"{measured:g} {unit}".strip()
    if minimum is None:
        return Check(label, shown, NO_MINIMUM, None, why)
    if measured is None:
        return Check(label, shown, f"≥ {minimum:g} {unit}".strip(), False, "not a number")
    ok = measured >= minimum
    return Check(label, shown, f"≥ {minimum:g} {unit}".strip(), ok,
                 "" if ok else f"below the {minimum:g} {unit} FluxOS needs".replace("  ", " "))


def version_at_least(value, minimum: str) -> Check:
    shown = text(value)
    if shown == DASH:
        return Check("Fluxbench version", shown, f"≥ {minimum}", False, "not reported")
    ok = version_key(shown) >= version_key(minimum)
    return Check("Fluxbench version", shown, f"≥ {minimum}", ok,
                 "" if ok else f"FluxOS allows v{minimum} or newer (the node goes DOS)")


def checks_for(bench: dict, tier: str | None, new_collateral: bool) -> list[Check]:
    threads, ram = HARDWARE_MINIMUMS.get((tier, new_collateral), (None, None))
    return [
        at_least("CPU threads", bench.get("cores"), threads, ""),
        at_least("RAM", bench.get("ram"), ram, "GB"),
        at_least("SSD", bench.get("ssd"), TIER_STORAGE_GB.get(tier), "GB"),
        at_least("EPS", bench.get("eps"), None, ""),
        at_least("Disk write", bench.get("ddwrite"), None, "MB/s"),
        version_at_least(bench.get("bench_version"), MIN_BENCH_VERSION),
    ]


def benchmarks(client, node) -> dict:
    bench = mapping(shaped(client.benchmarks, {}))
    status = mapping(optional(client.benchmark_status, {}))
    tier, new_collateral = parse_tier(optional(client.node_tier, ""))
    reached = text(bench.get("status")).upper()
    passed = reached in VALID_TIERS
    reason = ""
    if not passed:
        reason = text(bench.get("error")) if bench.get("error") else \
            f"fluxbench reports {text(status.get('benchmarking'))}"
    checks = checks_for(bench, tier, new_collateral)
    return {
        "tier": (tier.title() + (" (new collateral)" if new_collateral else "")) if tier else DASH,
        "reached": reached if reached != DASH else DASH, "passed": passed, "reason": reason,
        "benchmarking": text(status.get("benchmarking")), "status": text(status.get("status")),
        "checks": checks, "failed": [c for c in checks if c.ok is False],
        "others": [(label, text(bench.get(key))) for label, key in (
            ("Real cores", "real_cores"), ("Download", "download_speed"), ("Upload", "upload_speed"),
            ("Ping", "ping"), ("Architecture", "architecture"), ("ArcaneOS (systemsecure)", "systemsecure"))],
    }
