"""Throughput of NodeClient against a bare requests.Session, on 1,000 simulated nodes.

    uv run python bench/client.py [--nodes 1000] [--threads 8] [--seconds 4] [--rounds 3]

The simulator runs as its own process (`python -m tests.sim.fluxnode`) so it has its own core.
Both contenders call GET /flux/info on every node round-robin from the same thread pool, with one
session per thread; the bare loop does the minimum (get + .json()), NodeClient adds its envelope
check and error mapping. NodeClient's sessions skip requests' per-call proxy/.netrc environment
lookups (trust_env off), so a third contender, the bare loop with that same setting, shows what the
client's own code costs. Rounds alternate the contenders and the median of each is kept (the
machine is shared; medians of interleaved rounds are what survive the noise).

To show the simulator is not what limits the figures, the bench reads the simulator process's CPU
time (/proc/<pid>/stat) around each round: a simulator well below one full core while the bench
process itself sits at its GIL-bound ceiling means the client side is the bottleneck.

The last line printed is one JSON object: {"client_rps", "bare_rps", "ratio", …}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from _panel import start_sim  # noqa: E402  (bench/ is on sys.path when this script runs)

from fluxpanel.fluxos.client import DEFAULT_TIMEOUT, NodeClient  # noqa: E402


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (clock ticks → seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_round(work, n_targets: int, threads: int, seconds: float) -> int:
    """Call work(i) round-robin over the targets from `threads` workers for `seconds`."""
    counter = itertools.count()
    deadline = time.perf_counter() + seconds
    done = [0] * threads
    failures = []

    def worker(slot: int) -> None:
        count = 0
        while time.perf_counter() < deadline:
            try:
                work(next(counter) % n_targets)
            except Exception as exc:  # counted, reported, never silently dropped
                failures.append(repr(exc))
                continue
            count += 1
        done[slot] = count

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[0]}")
    return sum(done)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    proc, urls = start_sim(args.nodes)
    try:
        info_urls = [url + "/flux/info" for url in urls]
        clients = [NodeClient(url, allow_private=True) for url in urls]  # the sim is on loopback
        local = threading.local()

        def bare(i: int):
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            return session.get(info_urls[i], timeout=DEFAULT_TIMEOUT).json()

        def bare_noenv(i: int):
            """The bare loop with the one tuning NodeClient applies (trust_env off), to show what
            the client's own code costs on top of requests."""
            session = getattr(local, "session_noenv", None)
            if session is None:
                session = local.session_noenv = requests.Session()
                session.trust_env = False
            return session.get(info_urls[i], timeout=DEFAULT_TIMEOUT).json()

        def client(i: int):
            return clients[i].info()

        # Warm-up: every node answers once (fills the node's 60 s reply cache, opens keep-alive
        # connections) so both contenders measure the same steady state.
        run_round(client, len(urls), args.threads, 1.0)
        run_round(bare, len(urls), args.threads, 1.0)
        run_round(bare_noenv, len(urls), args.threads, 1.0)

        contenders = (("bare", bare), ("client", client), ("bare_noenv", bare_noenv))
        results: dict[str, list[float]] = {name: [] for name, _ in contenders}
        sim_share: dict[str, list[float]] = {name: [] for name, _ in contenders}
        bench_share: dict[str, list[float]] = {name: [] for name, _ in contenders}
        for _ in range(args.rounds):
            for name, work in contenders:
                sim_cpu0, own_cpu0, wall0 = proc_cpu_seconds(proc.pid), time.process_time(), time.perf_counter()
                count = run_round(work, len(urls), args.threads, args.seconds)
                wall = time.perf_counter() - wall0
                results[name].append(count / wall)
                sim_share[name].append((proc_cpu_seconds(proc.pid) - sim_cpu0) / wall)
                bench_share[name].append((time.process_time() - own_cpu0) / wall)
                print(f"{name:10s} {count / wall:8.0f} req/s  sim cpu {sim_share[name][-1]:.0%}  "
                      f"bench cpu {bench_share[name][-1]:.0%}", flush=True)
        served = requests.get(urls[0].rsplit("/n/", 1)[0] + "/_sim/stats", timeout=5).json()
    finally:
        proc.terminate()
        proc.wait(10)

    client_rps = statistics.median(results["client"])
    bare_rps = statistics.median(results["bare"])
    noenv_rps = statistics.median(results["bare_noenv"])
    print(json.dumps({
        "client_rps": round(client_rps, 1), "bare_rps": round(bare_rps, 1),
        "ratio": round(client_rps / bare_rps, 3),
        "bare_noenv_rps": round(noenv_rps, 1), "ratio_vs_bare_noenv": round(client_rps / noenv_rps, 3),
        "nodes": args.nodes, "threads": args.threads,
        "seconds_per_round": args.seconds, "rounds": args.rounds,
        "sim_cpu_share_client": round(statistics.median(sim_share["client"]), 3),
        "sim_cpu_share_bare": round(statistics.median(sim_share["bare"]), 3),
        "bench_cpu_share_client": round(statistics.median(bench_share["client"]), 3),
        "bench_cpu_share_bare": round(statistics.median(bench_share["bare"]), 3),
        "sim_requests_served": served["served"],
        # the simulator's CPU per request, and the rate at which it would fill one core
        "sim_cpu_ms_per_request": round(1000 * statistics.median(sim_share["client"]) / client_rps, 3),
        "sim_capacity_rps_estimate": round(client_rps / max(statistics.median(sim_share["client"]), 1e-6)),
    }))


if __name__ == "__main__":
    main()
