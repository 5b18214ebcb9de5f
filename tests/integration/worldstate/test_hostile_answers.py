"""A hostile or broken engine (issue 10, F6 and the world-state causes of F9).

F6: every answer is read with a byte cap per call and a total deadline, so a 300 MB, endless or
trickling answer costs a bounded amount of memory and time.
F9: malformed-but-valid JSON (wrong shapes, strings for numbers, missing keys, nulls, too deep,
lone surrogates) is caught once, in the client's answer checks, and every page shows a clear
message instead of a 500. The engine double's fault modes (tests/sim/worldstate_faults.py) play
the engine.
"""
from __future__ import annotations

import time
import tracemalloc

import pytest
from django.urls import reverse

from apps.worldstate.client import LISTING_ANSWER_LIMIT, MalformedAnswer, WorldStateUnavailable
from tests.integration.worldstate.pages import ADMIN, html_of, make_engine
from tests.sim.worldstate import loopback_client
from tests.sim.worldstate_faults import SHAPES

MALFORMED = "is not what its API promises"
UNREADABLE = "is not JSON the panel can read"

# ---- F6: size and time ----------------------------------------------------------------------


def test_it_stops_reading_a_300_mb_listing_at_the_cap(personas, client_as, double):
    double.seed({"team-a/x": {"n": 1}})
    double.configure(fault="huge", fault_path="/api/state/entities")
    engine = make_engine(personas, double.url)
    client = client_as("viewer")
    tracemalloc.start()
    try:
        started = time.monotonic()
        response = client.get(reverse("worldstate:entities", args=[engine.pk]))
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    assert "larger than the 8.0 MiB the panel reads for this call" in html_of(response)
    assert peak < 4 * LISTING_ANSWER_LIMIT, f"the page held {peak / 2**20:.0f} MiB"
    assert elapsed < 10


def test_it_refuses_an_announced_oversized_answer_without_reading_it(double):
    double.configure(fault="huge_declared")
    started = time.monotonic()
    with pytest.raises(MalformedAnswer, match="larger than the 256.0 KiB"):
        loopback_client(double.url, timeout=5).admin_config()
    assert time.monotonic() - started < 2


def test_it_gives_up_on_an_endless_answer(double):
    double.configure(fault="endless", fault_path="/api/events")
    with pytest.raises(MalformedAnswer, match="larger than"):
        loopback_client(double.url, timeout=5).history("team-a/x")


def test_it_gives_up_on_a_trickling_answer_at_the_deadline(double):
    """One byte every 0.3 s never trips a per-read timeout; the call's total deadline does."""
    double.configure(fault="trickle", fault_interval=0.3)
    started = time.monotonic()
    with pytest.raises(WorldStateUnavailable, match="did not finish its answer within 1 s"):
        loopback_client(double.url, timeout=1).connectors()
    assert time.monotonic() - started < 3


def test_it_does_not_read_the_body_of_a_huge_redirect(double):
    double.configure(fault="redirect_huge", fault_location="http://127.0.0.1:9/")
    tracemalloc.start()
    try:
        with pytest.raises(Exception, match="answered a redirect"):
            loopback_client(double.url, timeout=5).entity_rows()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


# ---- F9: malformed answers on every page ------------------------------------------------------

# (page, URL query, the engine route the fault bends). The entity page reads the entity and then
# its history: the "history" case bends only the history.
PAGES = [
    ("entities", {}, r"/api/state/entities"),
    ("entity", {"id": "team-a/x"}, r"/api/state/entities/.+"),
    ("history", {"id": "team-a/x"}, r"/api/events"),
    ("connectors", {}, r"/api/connectors"),
    ("config", {}, r"/api/admin/config"),
]
# Bent answers that are still what the API promises: a string is a fine property value, and
# the config holds neither arrays nor strings.
STILL_VALID = {("entities", "strings"), ("entity", "strings"), ("config", "swap_inner"),
               ("config", "surrogate")}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("page,query,route", PAGES, ids=[page for page, _, _ in PAGES])
def test_it_shows_a_clear_message_for_a_malformed_answer(personas, client_as, double, page, query,
                                                         route, shape):
    loopback_client(double.url).publish("sensors.test", "test", "team-a/x", {"n": 1, "label": "ok"})
    double.configure(fault=f"malformed:{shape}", fault_path=route)
    engine = make_engine(personas, double.url)
    view = "entity" if page == "history" else page
    response = client_as("viewer").get(reverse(f"worldstate:{view}", args=[engine.pk]), query)
    html = html_of(response)
    assert response.status_code == 200
    if (page, shape) in STILL_VALID:
        assert MALFORMED not in html and UNREADABLE not in html
    else:
        assert MALFORMED in html or UNREADABLE in html
        assert "\ud800" not in html


@pytest.mark.parametrize("shape", ["swap", "missing", "nulls", "strings", "scalar"])
def test_it_explains_a_malformed_answer_to_a_write(personas, client_as, double, shape):
    """Publish, batch, delete, config change and namespace registration: a form error or a
    message, never a 500 (the batch answer must hold one result per event sent)."""
    double.reset(auth=True, admin_token=ADMIN)
    double.configure(fault=f"malformed:{shape}", fault_path=r"/api/.*")
    engine = make_engine(personas, double.url)
    engine.set_admin_token(ADMIN)
    engine.save()
    namespace_id, token = double.register_namespace("team-a")
    engine.set_token(token)
    engine.save()
    operator = client_as("operator")
    posts = [
        ("publish", {"entity_id": "team-a/x", "properties": '{"a": 1}', "stream": "panel.manual",
                     "source": "t"}),
        ("batch", {"events": '[{"entity_id": "team-a/y", "properties": {"b": 2}}]',
                   "stream": "panel.batch", "source": "t"}),
        ("delete", {"entity_ids": ["team-a/x", "team-a/y"], "expected": "2", "confirm": "1"}),
    ]
    for name, data in posts:
        response = operator.post(reverse(f"worldstate:{name}", args=[engine.pk]), data, follow=True)
        assert response.status_code == 200, name
        if (name, shape) != ("publish", "strings"):  # a string eventId is what the API promises
            assert MALFORMED in html_of(response) or UNREADABLE in html_of(response), name
    manager = client_as("manager")
    for name, data in [("config_edit", {"rate_limit_per_namespace_per_minute": 5,
                                        "body_size_limit_single_bytes": 1000,
                                        "body_size_limit_batch_bytes": 2000}),
                       ("namespace_register", {"name": "fresh"})]:
        response = manager.post(reverse(f"worldstate:{name}", args=[engine.pk]), data, follow=True)
        assert response.status_code == 200, name
    assert namespace_id


def test_it_refuses_deep_properties_in_a_listing_only_where_it_shows_them(double):
    """The listing's own check is cheap (ids and types); the full check of properties runs when
    a row becomes an Entity, so a listing page pays it for its 50 rows only."""
    double.seed({"team-a/x": {"n": 1}})
    double.configure(fault="malformed:deep_values", fault_path=r"/api/state/entities")
    client = loopback_client(double.url, timeout=5)
    assert [row["id"] for row in client.entity_rows()] == ["team-a/x"]
    with pytest.raises(MalformedAnswer, match="nested deeper than 64 levels"):
        client.entities()
