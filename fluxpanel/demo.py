"""`make demo`: the panel (as `make run`) with a simulated fleet of 50 nodes, a world-state engine
double, and a demo team that has both.

The demo keeps its own data folder (var/demo) so it never mixes with a real panel's data, and the
simulator listens on a fixed port (DEMO_SIM_PORT, default 18127) so the nodes registered on the
first run are the same nodes on the next one (likewise DEMO_WS_PORT, default 18300, for the engine).
The Network page asks a Flux stats API double (DEMO_STATS_PORT, default 18400), never the internet.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_NODES = 50
DEMO_USER = "demo"
DEMO_PASSWORD = "flux-demo-password"
DEMO_TEAM = "Demo fleet"


def start_simulator(port: int) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sim.fluxnode", "--nodes", str(DEMO_NODES), "--port", str(port),
         "--seed", "42", "--latency-ms", "30", "--vary-expiry"],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    urls = [process.stdout.readline().strip() for _ in range(DEMO_NODES)]
    if not all(urls):
        process.kill()
        raise SystemExit(f"fluxpanel demo: the simulated fleet could not start on port {port} "
                         "(is another demo running? set DEMO_SIM_PORT)")
    return process, urls


def start_double(module: str, port: int, what: str, port_variable: str) -> tuple[subprocess.Popen, str]:
    """A double (`python -m <module> --port <port>`) that prints its base URL once it listens."""
    process = subprocess.Popen([sys.executable, "-m", module, "--port", str(port)],
                               cwd=REPO, stdout=subprocess.PIPE, text=True)
    url = process.stdout.readline().strip()
    if not url:
        process.kill()
        raise SystemExit(f"fluxpanel demo: {what} could not start on port {port} (set {port_variable})")
    return process, url


def start_engine(port: int) -> tuple[subprocess.Popen, str]:
    """A local world-state engine double, so the World state pages have something to browse."""
    return start_double("tests.sim.worldstate", port, "the world-state engine", "DEMO_WS_PORT")


def start_stats_api(port: int) -> tuple[subprocess.Popen, str]:
    """A local Flux stats API double, so the Network page never reaches the internet."""
    return start_double("tests.sim.fluxstats", port, "the stats API double", "DEMO_STATS_PORT")


def sim_owner_zelids() -> list[str]:
    """The ZelIDs that own the simulated apps (the simulator draws owners from these test keys)."""
    from tests.sim.keys import owner_zelids

    return owner_zelids()


def sim_owner_authorisations() -> list[str]:
    """'zelid phrase signature' for each simulated owner: the demo plays the key holder's wallet,
    signing a fresh FluxOS phrase with the simulator's test key (the panel gets the signature)."""
    from tests.sim.keys import OWNERS

    lines = []
    for key in OWNERS:
        phrase = key.phrase()
        lines.append(f"{key.zelid} {phrase} {key.sign(phrase)}")
    return lines


def location_template(urls: list[str]) -> str:
    """`http://host:port/loc/{location}`: the simulator serves a node by its FluxOS location."""
    return urls[0].rsplit("/n/", 1)[0] + "/loc/{location}"


def seed(urls: list[str], engine_url: str) -> None:
    """Create the demo account and team (once), register the simulated nodes and the engine, and
    publish the fleet there through the bridge; watch the simulated owners and sync their apps once.
    The apps own the seeding (management commands): this package imports no app."""
    from django.core.management import call_command

    call_command("seed_demo_fleet", *urls, user=DEMO_USER, password=DEMO_PASSWORD, team=DEMO_TEAM)
    call_command("seed_demo_engine", engine_url, user=DEMO_USER, team=DEMO_TEAM)
    call_command("seed_demo_apps", *sim_owner_zelids(), user=DEMO_USER, team=DEMO_TEAM)
    call_command("sync_apps", team=DEMO_TEAM)
    call_command("seed_demo_authorisations", *sim_owner_authorisations(), user=DEMO_USER, team=DEMO_TEAM)


def main() -> int:
    os.environ.setdefault("FLUXPANEL_DATA_DIR", str(REPO / "var" / "demo"))
    os.environ["FLUXPANEL_ALLOW_ANY_NODE_URL"] = "true"  # the simulated fleet and engine listen on loopback
    os.environ["FLUXPANEL_ALLOW_PRIVATE_ENGINES"] = "true"
    simulator, urls = start_simulator(int(os.environ.get("DEMO_SIM_PORT", "18127")))
    os.environ["FLUXPANEL_DEV_LOCATION_URL"] = location_template(urls)  # app instances → the simulator
    engine, engine_url = start_engine(int(os.environ.get("DEMO_WS_PORT", "18300")))
    stats_api, os.environ["FLUX_STATS_API_URL"] = start_stats_api(int(os.environ.get("DEMO_STATS_PORT", "18400")))
    os.environ["FLUXPANEL_ALLOW_PRIVATE_STATS_API"] = "true"  # the stats double listens on loopback
    from fluxpanel import serve

    port = os.environ.get("PORT", "8000")
    banner = (f"fluxpanel demo: open http://127.0.0.1:{port}/ and sign in as "
              f"{DEMO_USER} / {DEMO_PASSWORD} ({DEMO_NODES} simulated nodes, swept every 30 s)")
    try:
        return serve.main(before_start=lambda settings: seed(urls, engine_url), banner=banner)
    finally:
        for process in (simulator, engine, stats_api):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
