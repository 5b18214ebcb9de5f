"""The subscriber against the engine double over a real WebSocket on loopback: the copy follows
live updates, a dropped connection is resynced from the REST API without losing an update, and
one bad engine never stops the others."""
from __future__ import annotations

import pytest

from apps.worldstate.models import EngineLive, LiveEntity, LiveUpdate
from tests.integration.worldstate.conftest import wait_for
from tests.integration.worldstate.live import (
    RunningSubscriber,
    copied,
    live_reason,
    live_state,
    wait_live,
)
from tests.integration.worldstate.pages import DEAD_URL, make_engine
from tests.sim.worldstate import WorldStateDouble, loopback_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick(settings, double):
    double.configure(metrics_interval=0.2)  # the silence below must be longer than this
    settings.WORLDSTATE_LEASE_SECONDS = 2
    settings.WORLDSTATE_SILENCE_SECONDS = 1
    settings.WORLDSTATE_BACKOFF_MAX_SECONDS = 1


def test_it_copies_what_the_engine_holds_and_follows_updates(personas, double):
    client = loopback_client(double.url)
    client.publish("s.t", "before", "team-a/boiler", {"temp": 60})
    engine = make_engine(personas, double.url)
    with RunningSubscriber():
        wait_live(engine)
        assert copied(engine, "team-a/boiler") == {"temp": 60}
        client.publish("s.t", "after", "team-a/boiler", {"temp": 97.5, "status": "hot"})
        wait_for(lambda: copied(engine, "team-a/boiler") == {"temp": 97.5, "status": "hot"})
        line = LiveUpdate.objects.get(engine=engine, entity_id="team-a/boiler", property_name="temp",
                                      via="live")
        assert (line.old, line.new, line.had_old) == (60, 97.5, True)
        client.delete("team-a/boiler")
        wait_for(lambda: copied(engine, "team-a/boiler") is None)
        assert LiveUpdate.objects.filter(engine=engine, kind="deleted", entity_id="team-a/boiler").exists()
        wait_for(lambda: live_state(engine).metrics.get("entities", {}).get("total") == 0)


def test_it_resyncs_after_the_engine_drops_the_connection_so_nothing_is_lost(personas, double):
    client = loopback_client(double.url)
    engine = make_engine(personas, double.url)
    with RunningSubscriber():
        wait_live(engine)
        accepted = double.ws_accepted()
        double.refuse_websockets(True)
        double.drop_connections("close")
        wait_for(lambda: live_state(engine).state != "live")
        client.publish("s.t", "gap", "team-a/missed", {"n": 1})  # while nobody listens
        client.publish("s.t", "gap", "team-a/missed", {"n": 2})
        double.refuse_websockets(False)
        wait_live(engine)
        assert double.ws_accepted() > accepted
        assert copied(engine, "team-a/missed") == {"n": 2}
        found = LiveUpdate.objects.get(engine=engine, entity_id="team-a/missed", via="resync")
        assert (found.property_name, found.new, found.had_old) == ("n", 2, False)
        assert LiveUpdate.objects.filter(engine=engine, kind="resync").count() >= 2


@pytest.mark.parametrize(("fault", "reason"), [
    ("abort", "went away without closing it"),
    ("garbage", "not JSON objects"),
    ("huge", "over 2.0 MiB"),
])
def test_it_gives_a_reason_and_reconnects_after_a_fault(personas, double, fault, reason):
    engine = make_engine(personas, double.url)
    with RunningSubscriber():
        wait_live(engine)
        if fault == "garbage":
            for _ in range(6):  # 4 frames each: past Subscription's 20 garbage frames in a row
                double.drop_connections("garbage")
        else:
            double.drop_connections(fault)
        wait_for(lambda: reason in live_reason(engine), timeout=10)
        wait_live(engine)
        loopback_client(double.url).publish("s.t", "x", "team-a/after", {"ok": True})
        wait_for(lambda: copied(engine, "team-a/after") == {"ok": True})


def test_it_reconnects_an_engine_that_stalls(personas, double):
    engine = make_engine(personas, double.url)
    with RunningSubscriber():
        wait_live(engine)
        double.stall(1.5)
        wait_for(lambda: "No live update from the engine within 1 s" in live_reason(engine), timeout=10)
        wait_live(engine)


def test_it_keeps_the_other_engines_live_when_one_refuses(personas, double):
    good = make_engine(personas, double.url, name="good")
    dead = make_engine(personas, DEAD_URL, name="dead")
    with WorldStateDouble() as refusing:
        refusing.refuse_websockets(True)
        refuser = make_engine(personas, refusing.url, name="refusing")
        with RunningSubscriber():
            wait_live(good)
            wait_for(lambda: "connection refused" in live_reason(dead), timeout=10)
            wait_for(lambda: "HTTP 503" in live_reason(refuser), timeout=10)
            loopback_client(double.url).publish("s.t", "x", "team-a/fine", {"ok": 1})
            wait_for(lambda: copied(good, "team-a/fine") == {"ok": 1})
            assert live_state(good).state == "live"
            assert live_state(dead).state == "retrying"


def test_it_lets_only_one_of_two_subscribers_hold_an_engine(personas, double):
    engine = make_engine(personas, double.url)
    with RunningSubscriber("first"), RunningSubscriber("second"):
        wait_live(engine)
        loopback_client(double.url).publish("s.t", "x", "team-a/once", {"n": 1})
        wait_for(lambda: copied(engine, "team-a/once") == {"n": 1})
        assert len(double.ws_subscriptions()) == 1
        assert LiveUpdate.objects.filter(engine=engine, entity_id="team-a/once").count() == 1
        assert EngineLive.objects.get(engine=engine).holder in ("first", "second")


def test_it_skips_values_it_cannot_store_and_marks_the_entity_not_copied(personas, double):
    engine = make_engine(personas, double.url)
    with RunningSubscriber():
        wait_live(engine)
        loopback_client(double.url).publish("s.t", "x", "team-a/nul", {"text": "a\u0000b"})
        wait_for(lambda: LiveEntity.objects.filter(engine=engine, entity_id="team-a/nul",
                                                   copied=False).exists())
        line = LiveUpdate.objects.get(engine=engine, entity_id="team-a/nul", via="live")
        assert "cannot store" in line.note


def test_it_keeps_the_recent_log_bounded(personas, double, settings):
    settings.WORLDSTATE_LIVE_LOG_ROWS = 10
    engine = make_engine(personas, double.url)
    with RunningSubscriber():
        wait_live(engine)
        loopback_client(double.url).publish_batch(
            [{"stream": "s.t", "source": "x", "entity_id": "team-a/busy", "properties": {"n": n}}
             for n in range(250)])
        wait_for(lambda: copied(engine, "team-a/busy") == {"n": 249})
        newest = LiveUpdate.objects.filter(engine=engine).order_by("-seq").first()
        assert newest.new == 249
        # Trimmed about every 100 lines: never more than the limit plus one such step.
        assert LiveUpdate.objects.filter(engine=engine).count() <= 10 + 100


def test_it_lets_go_of_an_engine_that_is_removed(personas, double):
    engine = make_engine(personas, double.url)
    with RunningSubscriber():
        wait_live(engine)
        assert len(double.ws_subscriptions()) == 1
        engine.delete()
        wait_for(lambda: double.ws_subscriptions() == [], timeout=10)
