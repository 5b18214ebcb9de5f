"""The entity browser (one page sent, never the whole listing) and the live entity page (its htmx poll
is the same URL; 304 when unchanged)."""
from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.worldstate.views import PAGE_SIZE
from fluxpanel.htmx import POLL_FAST_S, POLL_HIDDEN_S
from tests.integration.worldstate.pages import html_of, make_engine
from tests.sim.worldstate import loopback_client

# Session, user, membership, team switcher, engine (+ the registered namespaces' names for the
# quick filters). Pinned: a change that adds a query per entity or per row fails here.
PINNED_BROWSER_QUERIES = 6
PINNED_POLL_QUERIES = 4


# ---- entity browser -------------------------------------------------------------------------


def test_it_browser_sends_one_page_of_a_10000_entity_engine(personas, client_as, double):
    double.seed({f"team-a/sensor-{i:05d}": {"temp": i, "status": "ok", "zone": i % 7}
                        for i in range(10_000)})
    engine = make_engine(personas, double.url)
    client = client_as("viewer")
    url = reverse("worldstate:entities", args=[engine.pk])
    client.get(reverse("worldstate:engines"))  # the first request stores the team in the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    html = html_of(response)
    rows = re.findall(r'<tr data-entity="([^"]+)"', html)
    assert rows == [f"team-a/sensor-{i:05d}" for i in range(PAGE_SIZE)]  # sorted, one page
    assert 'data-total="10000"' in html and "Page 1 of 200" in html
    assert len(response.content) < 80_000, "the page must not carry the whole listing"
    assert len(queries) == PINNED_BROWSER_QUERIES, "\n".join(q["sql"][:150] for q in queries)

    html = html_of(client.get(url, {"page": 200}))
    assert re.findall(r'<tr data-entity="([^"]+)"', html)[-1] == "team-a/sensor-09999"

    html = html_of(client.get(url, {"prefix": "team-a/sensor-0012"}))
    rows = re.findall(r'<tr data-entity="([^"]+)"', html)
    assert rows == [f"team-a/sensor-{i:05d}" for i in range(120, 130)]
    assert 'data-total="10"' in html and "Page 1 of" not in html


def test_it_entity_page_shows_properties_and_history(personas, client_as, double):
    engine = make_engine(personas, double.url)
    writer = loopback_client(double.url)
    writer.publish("sensors.temp", "probe", "team-a/room", {"temp": 20, "label": "<b>hall</b>"})
    writer.publish("sensors.temp", "probe", "team-a/room", {"temp": 21})
    html = html_of(client_as("viewer").get(reverse("worldstate:entity", args=[engine.pk]),
                                           {"id": "team-a/room"}))
    assert re.search(r'data-property="temp">.*?21', html, re.S)
    assert "&lt;b&gt;hall&lt;/b&gt;" in html and "<b>hall</b>" not in html  # escaped
    assert len(re.findall(r"<tr data-event=", html)) == 2
    entity_url = reverse("worldstate:entity", args=[engine.pk])
    assert f'hx-get="{entity_url}?id=team-a%2Froom' in html  # the page polls its own URL
    assert f'hx-trigger="every {POLL_FAST_S}s"' in html and f'data-poll-hidden="{POLL_HIDDEN_S}"' in html


def test_it_poll_answers_304_until_the_entity_changes(personas, client_as, double):
    engine = make_engine(personas, double.url)
    writer = loopback_client(double.url)
    writer.publish("sensors.temp", "probe", "team-a/room", {"temp": 20})
    client = client_as("viewer")
    html = html_of(client.get(reverse("worldstate:entity", args=[engine.pk]), {"id": "team-a/room"}))
    assert 'data-fingerprint="' in html
    fingerprint = re.search(r'data-fingerprint="([0-9a-f]+)"', html).group(1)
    poll = reverse("worldstate:entity", args=[engine.pk])
    client.defaults["HTTP_HX_REQUEST"] = "true"  # htmx asking: the same URL answers the live part
    with CaptureQueriesContext(connection) as queries:
        unchanged = client.get(poll, {"id": "team-a/room", "fp": fingerprint})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert len(queries) == PINNED_POLL_QUERIES, [q["sql"] for q in queries]

    writer.publish("sensors.temp", "probe", "team-a/room", {"temp": 35})
    changed = client.get(poll, {"id": "team-a/room", "fp": fingerprint})
    assert changed.status_code == 200
    assert "<html" not in html_of(changed) and 'id="entity-live"' in html_of(changed)
    assert re.search(r'data-property="temp">.*?35', html_of(changed), re.S)
    assert f'data-fingerprint="{fingerprint}"' not in html_of(changed)

    writer.delete("team-a/room")
    gone = client.get(poll, {"id": "team-a/room", "fp": fingerprint})
    assert "data-absent" in html_of(gone)
