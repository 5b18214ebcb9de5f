"""How long a full fleet sweep takes, against simulated nodes answering with 100 ms latency.

    uv run python bench/sweep.py [--nodes 1000] [--quick]

Measures: a sweep of N nodes (probe + bulk write), the same with 5 % of the nodes hanging (they
cost one per-node timeout, in parallel), a sweep of 10,000 nodes (skipped with --quick), and the
peak resident memory of this process, which does the sweeping. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import resource
import time

import _panel  # noqa: F401  (puts the repository on sys.path)
import requests
from _panel import manager_of_new_team, setup_django, start_sim


def timed_sweep(team_id: int) -> tuple[float, object]:
    from apps.nodes.sweep import run_sweep

    started = time.perf_counter()
    sweep = run_sweep(team_id)
    return time.perf_counter() - started, sweep


def register(urls: list[str], name: str):
    from apps.nodes.actions import register_nodes

    membership = manager_of_new_team(name)
    register_nodes(membership=membership, text="\n".join(urls))
    return membership.team


def sim_admin_url(node_url: str) -> str:
    return node_url.split("/n/")[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-node sweep")
    args = parser.parse_args()
    setup_django()
    from django.conf import settings

    results = {"nodes": args.nodes}
    sim, urls = start_sim(args.nodes, latency_ms=args.latency_ms)
    try:
        team = register(urls, "bench-1k")
        seconds, sweep = timed_sweep(team.pk)
        assert sweep.done == args.nodes and sweep.failed == 0, (sweep.done, sweep.failed)
        results["seconds"] = round(seconds, 2)
        print(f"{args.nodes} nodes: {seconds:.2f} s", flush=True)

        hung = list(range(0, args.nodes, 20))  # 5 %
        admin = sim_admin_url(urls[0])
        for index in hung:
            requests.post(f"{admin}/_sim/nodes/{index}/fault", json={"kind": "hang"}, timeout=5)
        seconds, sweep = timed_sweep(team.pk)
        assert sweep.failed == len(hung), sweep.failed
        results["hung_seconds"] = round(seconds, 2)
        results["timeout_seconds"] = settings.SWEEP_TIMEOUT_SECONDS
        print(f"{args.nodes} nodes, {len(hung)} hanging: {seconds:.2f} s "
              f"(per-node timeout {settings.SWEEP_TIMEOUT_SECONDS} s)", flush=True)
    finally:
        sim.kill()
        sim.wait()

    if not args.quick:
        sim, urls = start_sim(10_000, latency_ms=args.latency_ms, seed=2)
        try:
            team = register(urls, "bench-10k")
            seconds, sweep = timed_sweep(team.pk)
            assert sweep.done == 10_000, sweep.done
            results["seconds_10000"] = round(seconds, 2)
            print(f"10000 nodes: {seconds:.2f} s", flush=True)
        finally:
            sim.kill()
            sim.wait()
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
