"""The real `manage.py worldstate_subscribe` processes: two copies share the engines safely, and
when the holder is killed with SIGKILL (no clean shutdown: its beat just stops) the other takes
its engine over within the lease time and keeps the copy live."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from apps.worldstate.models import EngineLive
from tests.conftest import REPO, stop_process
from tests.integration.worldstate.conftest import wait_for
from tests.integration.worldstate.live import copied, wait_live
from tests.integration.worldstate.pages import make_engine
from tests.sim.worldstate import loopback_client

pytestmark = pytest.mark.django_db(transaction=True)
LEASE_S = 2


def start_subscriber(child_environment) -> subprocess.Popen:
    environment = child_environment(WORLDSTATE_LEASE_SECONDS=str(LEASE_S), WORLDSTATE_SILENCE_SECONDS="2",
                                    WORLDSTATE_BACKOFF_MAX_SECONDS="1",
                                    FLUXPANEL_ALLOW_PRIVATE_ENGINES="true")
    return subprocess.Popen([sys.executable, "manage.py", "worldstate_subscribe"], cwd=REPO,
                            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_it_replaces_a_killed_subscriber_within_the_lease_time(personas, double, child_environment):
    double.configure(metrics_interval=0.2)
    engine = make_engine(personas, double.url)
    processes = [start_subscriber(child_environment), start_subscriber(child_environment)]
    try:
        first = wait_live(engine, timeout=60)
        holder_pid = int(first.holder.split(":")[1])
        killed = next(p for p in processes if p.pid == holder_pid)
        survivor = next(p for p in processes if p.pid != holder_pid)
        assert len(double.ws_subscriptions()) == 1, "two subscribers, one subscription"

        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        killed_at = time.monotonic()
        taken = wait_for(lambda: (row := EngineLive.objects.get(engine=engine)).holder != first.holder
                         and row.state == "live" and row, timeout=LEASE_S * 5)
        took_s = time.monotonic() - killed_at
        assert int(taken.holder.split(":")[1]) == survivor.pid
        # The lease runs out LEASE_S after the last beat; the survivor looks every LEASE_S / 3.
        assert took_s < LEASE_S + LEASE_S / 3 + 2.0, took_s
        loopback_client(double.url).publish("s.t", "x", "team-a/after-kill", {"n": 1})
        wait_for(lambda: copied(engine, "team-a/after-kill") == {"n": 1}, timeout=10)
    finally:
        for process in processes:
            stop_process(process, timeout=15)
    assert EngineLive.objects.get(engine=engine).holder == ""  # the survivor let go at SIGTERM
