"""Pages over the panel's copy while a real subscriber keeps it (the engine double on loopback):
they cost the engine nothing per poll, answer 304 until the copy changes, and fall back to the
engine (saying so) when no subscriber runs."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.integration.worldstate.conftest import wait_for
from tests.integration.worldstate.live import RunningSubscriber, copied, live_state, wait_live
from tests.integration.worldstate.pages import DEAD_URL, html_of, make_engine
from tests.sim.worldstate import loopback_client

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def quick(settings, double):
    double.configure(metrics_interval=0.2)
    settings.WORLDSTATE_LEASE_SECONDS = 2
    settings.WORLDSTATE_SILENCE_SECONDS = 1
    settings.WORLDSTATE_BACKOFF_MAX_SECONDS = 1


def fingerprint(html: str, element: str) -> str:
    return re.search(rf'id="{element}"[^>]*hx-get="[^"]*fp=([^"&]+)', html, re.S).group(1)


def test_it_entity_page_polls_the_copy_not_the_engine(personas, double, client_as):
    writer = loopback_client(double.url)
    writer.publish("s.t", "probe", "team-a/room", {"temp": 20})
    engine = make_engine(personas, double.url)
    client = client_as("viewer")
    url = reverse("worldstate:entity", args=[engine.pk])
    with RunningSubscriber():
        wait_live(engine)
        html = html_of(client.get(url, {"id": "team-a/room"}))
        assert 'data-live="on"' in html and "from the panel's live copy" in html
        fp = re.search(r'data-fingerprint="([0-9a-f]+)"', html).group(1)
        before = double.requests_seen()
        for _ in range(5):
            assert client.get(url, {"id": "team-a/room", "fp": fp}, **HTMX).status_code == 304
        assert double.requests_seen() == before, "a poll of a live page must not call the engine"
        writer.publish("s.t", "probe", "team-a/room", {"temp": 21})
        wait_for(lambda: copied(engine, "team-a/room") == {"temp": 21})
        before = double.requests_seen()
        changed = client.get(url, {"id": "team-a/room", "fp": fp}, **HTMX)
        assert changed.status_code == 200 and double.requests_seen() == before
        part = html_of(changed)
        assert '<pre class="mono">21</pre>' in part
        assert re.search(r'id="entity-seen".*20</span> → <span class="ws-new">21', part, re.S)


def test_it_entity_page_reads_the_engine_and_says_live_updates_are_off_without_a_subscriber(
        personas, double, client_as):
    loopback_client(double.url).publish("s.t", "probe", "team-a/room", {"temp": 20})
    engine = make_engine(personas, double.url)
    before = double.requests_seen()
    html = html_of(client_as("viewer").get(reverse("worldstate:entity", args=[engine.pk]),
                                           {"id": "team-a/room"}))
    assert 'data-live="off"' in html and "Live updates are off: no subscriber is running" in html
    assert '<pre class="mono">20</pre>' in html and double.requests_seen() > before


def test_it_entity_list_reads_the_copy_and_answers_304_until_it_changes(personas, double, client_as):
    writer = loopback_client(double.url)
    writer.publish_batch([{"stream": "s.t", "source": "x", "entity_id": f"team-a/e{i:02d}",
                           "properties": {"n": i}} for i in range(60)])
    engine = make_engine(personas, double.url)
    client = client_as("viewer")
    url = reverse("worldstate:entities", args=[engine.pk])
    with RunningSubscriber():
        wait_live(engine)
        before = double.requests_seen()
        html = html_of(client.get(url, {"prefix": "team-a/"}))
        assert double.requests_seen() == before
        assert 'data-total="60"' in html and "Page 1 of 2" in html
        fp = fingerprint(html, "entities-live")
        assert client.get(url, {"prefix": "team-a/", "fp": fp}, **HTMX).status_code == 304
        writer.publish("s.t", "x", "team-a/e00", {"n": "changed"})
        wait_for(lambda: copied(engine, "team-a/e00") == {"n": "changed"})
        before = double.requests_seen()
        part = html_of(client.get(url, {"prefix": "team-a/", "fp": fp}, **HTMX))
        assert 'n</span>=&quot;changed&quot;' in part and double.requests_seen() == before


def test_it_live_stream_shows_updates_deletions_metrics_and_filters_by_prefix(personas, double, client_as):
    writer = loopback_client(double.url)
    engine = make_engine(personas, double.url)
    client = client_as("viewer")
    url = reverse("worldstate:live", args=[engine.pk])
    with RunningSubscriber():
        wait_live(engine)
        writer.publish("s.t", "x", "team-a/pump", {"rpm": 1200})
        writer.publish("s.t", "x", "team-b/fan", {"rpm": 300})
        writer.delete("team-a/pump")
        wait_for(lambda: copied(engine, "team-a/pump") is None and copied(engine, "team-b/fan"))
        wait_for(lambda: live_state(engine).metrics)
        html = html_of(client.get(url))
        lines = re.findall(r'data-kind="(\w+)"', html)
        assert lines[:3] == ["deleted", "update", "update"]  # newest first
        assert "entity deleted" in html and 'data-metric="entities"' in html
        assert "team-b/fan" in html and "1200" in html
        filtered = html_of(client.get(url, {"prefix": "team-a/"}))
        assert "team-a/pump" in filtered and "team-b/fan" not in filtered
        fp = fingerprint(html, "live-stream")
        assert client.get(url, {"fp": fp}, **HTMX).status_code in (200, 304)
        paused = html_of(client.get(url, {"paused": "1"}))
        assert 'id="live-stream"' in paused and "hx-trigger" not in paused.split('id="live-stream"')[1][:400]
        assert 'id="live-resume"' in paused


def test_it_live_stream_answers_304_while_nothing_arrives(personas, double, client_as, settings):
    double.configure(metrics_interval=30)  # no metrics either, so the copy stays as it is
    settings.WORLDSTATE_SILENCE_SECONDS = 60
    engine = make_engine(personas, double.url)
    client = client_as("viewer")
    url = reverse("worldstate:live", args=[engine.pk])
    with RunningSubscriber():
        wait_live(engine)
        fp = fingerprint(html_of(client.get(url)), "live-stream")
        assert client.get(url, {"fp": fp}, **HTMX).status_code == 304
        loopback_client(double.url).publish("s.t", "x", "team-a/new", {"a": 1})
        wait_for(lambda: client.get(url, {"fp": fp}, **HTMX).status_code == 200)


def test_it_engine_page_gives_the_reason_an_engine_is_not_live(personas, client_as, double):
    engine = make_engine(personas, DEAD_URL)
    with RunningSubscriber():
        wait_for(lambda: (row := live_state(engine)) and "connection refused" in row.reason)
        html = html_of(client_as("viewer").get(reverse("worldstate:engine", args=[engine.pk])))
    assert "data-live-reason" in html and "connection refused" in html
    assert 'data-live="off"' in html


def test_it_healthz_reports_the_subscriber(client, double):
    assert client.get("/healthz").json()["subscriber"] == {"status": "not running"}
    with RunningSubscriber():
        wait_for(lambda: client.get("/healthz").json()["subscriber"]["status"] == "ok")


def test_it_entity_page_reads_the_engine_for_an_entity_the_copy_cannot_hold(personas, double, client_as):
    writer = loopback_client(double.url)
    engine = make_engine(personas, double.url)
    with RunningSubscriber():
        wait_live(engine)
        writer.publish("s.t", "x", "team-a/odd", {"text": "a\u0000b"})
        wait_for(lambda: live_state(engine).version >= 1 and copied(engine, "team-a/odd") == {})
        before = double.requests_seen()
        html = html_of(client_as("viewer").get(reverse("worldstate:entity", args=[engine.pk]),
                                               {"id": "team-a/odd"}))
        assert double.requests_seen() > before
        assert "a\\u0000b" in html
