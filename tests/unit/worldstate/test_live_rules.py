"""Rules of the live copy that need no engine: what the databases can store, which metrics are
believed, and that `make run` starts the subscriber beside the worker and beat."""
from pathlib import Path

import pytest

from apps.worldstate.live_store import _metrics, storable
from fluxpanel import serve


@pytest.mark.parametrize(("value", "ok"), [
    ({"a": [1, 2.5, "x", None, True]}, True),
    ("nul \x00 inside", False),
    ({"key\x00": 1}, False),
    (float("inf"), False),
    ([float("nan")], False),
    ("\ud800", False),
    (10**30, True),
])
def test_it_stores_only_what_both_databases_hold(value, ok):
    assert storable(value) is ok


def test_it_believes_only_metrics_of_the_engines_shape():
    good = {"type": "metrics_update", "entities": {"total": 3}, "events": {"total": 9, "rate_per_second": 0.4},
            "websocket": {"connections": 1}, "publishers": {"active": 2}}
    assert _metrics(good)["events"] == {"total": 9, "rate_per_second": 0.4}
    assert _metrics({**good, "entities": {"total": -1}}) is None
    assert _metrics({**good, "events": {"total": "9", "rate_per_second": 0}}) is None
    assert _metrics({**good, "websocket": {"connections": True}}) is None
    assert _metrics({**good, "publishers": []}) is None


@pytest.mark.parametrize("redis_url", ["", "redis://127.0.0.1:6379/0"])
def test_it_make_run_starts_the_subscriber(settings, redis_url):
    settings.REDIS_URL = redis_url
    processes = dict(serve.commands(settings))
    assert set(processes) == {"web", "worker", "beat", "subscriber"}
    manage, command = processes["subscriber"][1:]
    assert Path(manage).name == "manage.py" and Path(manage).exists()
    assert command == "worldstate_subscribe"
