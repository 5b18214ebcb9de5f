"""Throughput of fluxpanel.fluxos.signatures.verify_message on one core.

Run from the repository root:  uv run python bench/signatures.py [--seconds 2]

Every verification uses its own key and its own login phrase (nothing repeats, so no cache
could help even if there were one). The last line printed is one JSON object:
{"btc_verifies_per_s": ..., "eth_verifies_per_s": ..., "mixed_verifies_per_s": ...}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fluxpanel.fluxos.signatures import (  # noqa: E402 - needs the repository on sys.path
    address_from_private_key,
    sign_message,
    verify_message,
)

SAMPLES_PER_KIND = 500
START_MS = 1767225600000


def make_cases(kind: str, count: int) -> list[tuple[str, str, str]]:
    """(message, address, signature) triples, each from a distinct throw-away key."""
    cases = []
    for index in range(count):
        key = hashlib.sha256(f"fluxpanel-bench-{kind}-{index}".encode()).hexdigest()
        phrase = f"{START_MS + index}{hashlib.sha256(key.encode()).hexdigest()[:40]}"
        compressed = index % 2 == 0  # btc: both header families
        address = address_from_private_key(key, kind=kind, compressed=compressed)
        signature = sign_message(phrase, key, kind=kind, compressed=compressed)
        cases.append((phrase, address, signature))
    return cases


def verifies_per_second(cases: list[tuple[str, str, str]], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while True:
        for message, address, signature in cases:
            if not verify_message(message, address, signature):
                raise SystemExit(f"benchmark case failed to verify: {address}")
        done += len(cases)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()

    btc = make_cases("btc", SAMPLES_PER_KIND)
    eth = make_cases("eth", SAMPLES_PER_KIND)
    mixed = [case for pair in zip(btc, eth, strict=True) for case in pair]

    results = {
        "btc_verifies_per_s": round(verifies_per_second(btc, args.seconds)),
        "eth_verifies_per_s": round(verifies_per_second(eth, args.seconds)),
        "mixed_verifies_per_s": round(verifies_per_second(mixed, args.seconds)),
    }
    for name, rate in results.items():
        print(f"{name:>22}: {rate:>8} /s  ({1e6 / rate:.1f} µs each)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
