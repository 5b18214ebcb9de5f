"""World-state pages against the engine double over real HTTP on loopback.

Engines and their tokens, the entity browser (one page sent, never the whole listing), the live
entity fragment (304 when unchanged), publish with validation, batch, delete with a count,
connectors, runtime config and namespaces.
"""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import AuditEntry
from apps.worldstate.client import WorldStateClient
from apps.worldstate.models import Engine, EngineNamespace
from apps.worldstate.views import PAGE_SIZE
from fluxpanel import vault

ADMIN = "admin-secret-for-pages"
DEAD_URL = "http://127.0.0.1:9"
# Session, user, membership, team switcher, engine (+ the registered namespaces' names for the
# quick filters). Pinned: a change that adds a query per entity or per row fails here.
PINNED_BROWSER_QUERIES = 6
PINNED_POLL_QUERIES = 4


@pytest.fixture
def auth_double(double):
    double.reset(auth=True, admin_token=ADMIN)
    return double


def make_engine(personas, url, **fields) -> Engine:
    engine = Engine(team=personas.team, name=fields.pop("name", "main"), base_url=url,
                    namespace=fields.pop("namespace", "team-a"), **fields)
    engine.save()
    return engine


def html_of(response) -> str:
    return response.content.decode()


def field_errors(html: str, field: str) -> str:
    """The `.field` block (label, input, help, errors) of the input named `field`."""
    for chunk in html.split('<div class="field">')[1:]:
        chunk = chunk.split("</form>")[0]
        if f'name="{field}"' in chunk:
            return chunk
    raise AssertionError(f"no field {field}")


# ---- engines and tokens ---------------------------------------------------------------------


def test_register_engine_keeps_tokens_encrypted_and_never_shows_them(personas, client_as, double):
    client = client_as("manager")
    response = client.post(reverse("worldstate:engine_register"), {
        "name": "prod", "base_url": double.url + "/", "namespace": "team-a",
        "token": "ns-token-7f3a91", "admin_token": "admin-token-c0ffee"})
    engine = Engine.objects.get(team=personas.team, name="prod")
    assert response.status_code == 302 and response["Location"] == reverse("worldstate:engine", args=[engine.pk])
    assert engine.base_url == double.url
    assert "ns-token-7f3a91" not in engine.token_encrypted
    assert "admin-token-c0ffee" not in engine.admin_token_encrypted
    assert vault.decrypt(engine.token_encrypted) == "ns-token-7f3a91"
    assert vault.decrypt(engine.admin_token_encrypted) == "admin-token-c0ffee"
    assert "it answers" in html_of(client.get(response["Location"]))
    for name in ("engines", "engine", "engine_settings", "namespaces", "config"):
        url = reverse(f"worldstate:{name}", args=[] if name == "engines" else [engine.pk])
        html = html_of(client.get(url))
        assert "ns-token-7f3a91" not in html and "admin-token-c0ffee" not in html, name
    audit = AuditEntry.objects.get(action="worldstate.engine.register")
    assert "ns-token" not in str(audit.detail) and audit.detail["token"] is True


def test_settings_keep_tokens_when_left_blank_and_bridge_needs_namespace(personas, client_as, double):
    engine = make_engine(personas, double.url)
    engine.set_token("keep-me")
    engine.save()
    client = client_as("manager")
    url = reverse("worldstate:engine_settings", args=[engine.pk])
    html = html_of(client.post(url, {"name": "main", "base_url": double.url,
                                     "namespace": "", "bridge_enabled": "on"}))
    assert "The bridge needs a namespace to publish into." in field_errors(html, "namespace")
    client.post(url, {"name": "renamed", "base_url": double.url, "namespace": "team-a",
                      "bridge_enabled": "on"})
    engine.refresh_from_db()
    assert (engine.name, engine.bridge_enabled, engine.token()) == ("renamed", True, "keep-me")
    client.post(url, {"name": "renamed", "base_url": double.url, "namespace": "team-a",
                      "clear_token": "on"})
    engine.refresh_from_db()
    assert engine.token() is None and not engine.bridge_enabled


def test_an_unreachable_engine_gives_a_clear_message(personas, client_as):
    engine = make_engine(personas, DEAD_URL)
    client = client_as("viewer")
    html = html_of(client.get(reverse("worldstate:entities", args=[engine.pk])))
    assert "cannot be reached" in html
    assert 'data-health="down"' in html_of(client.get(reverse("worldstate:engine", args=[engine.pk])))
    assert "cannot be reached" in html_of(client.get(reverse("worldstate:connectors", args=[engine.pk])))


# ---- entity browser -------------------------------------------------------------------------


def test_browser_sends_one_page_of_a_10000_entity_engine(personas, client_as, double):
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


def test_entity_page_shows_properties_and_history(personas, client_as, double):
    engine = make_engine(personas, double.url)
    writer = WorldStateClient(double.url)
    writer.publish("sensors.temp", "probe", "team-a/room", {"temp": 20, "label": "<b>hall</b>"})
    writer.publish("sensors.temp", "probe", "team-a/room", {"temp": 21})
    html = html_of(client_as("viewer").get(reverse("worldstate:entity", args=[engine.pk]),
                                           {"id": "team-a/room"}))
    assert re.search(r'data-property="temp">.*?21', html, re.S)
    assert "&lt;b&gt;hall&lt;/b&gt;" in html and "<b>hall</b>" not in html  # escaped
    assert len(re.findall(r"<tr data-event=", html)) == 2
    assert 'hx-trigger="every 500ms' in html


def test_poll_answers_304_until_the_entity_changes(personas, client_as, double):
    engine = make_engine(personas, double.url)
    writer = WorldStateClient(double.url)
    writer.publish("sensors.temp", "probe", "team-a/room", {"temp": 20})
    client = client_as("viewer")
    html = html_of(client.get(reverse("worldstate:entity", args=[engine.pk]), {"id": "team-a/room"}))
    assert 'data-fingerprint="' in html
    fingerprint = re.search(r'data-fingerprint="([0-9a-f]+)"', html).group(1)
    poll = reverse("worldstate:entity_poll", args=[engine.pk])
    with CaptureQueriesContext(connection) as queries:
        unchanged = client.get(poll, {"id": "team-a/room", "fp": fingerprint})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert len(queries) == PINNED_POLL_QUERIES, [q["sql"] for q in queries]

    writer.publish("sensors.temp", "probe", "team-a/room", {"temp": 35})
    changed = client.get(poll, {"id": "team-a/room", "fp": fingerprint})
    assert changed.status_code == 200
    assert re.search(r'data-property="temp">.*?35', html_of(changed), re.S)
    assert f'data-fingerprint="{fingerprint}"' not in html_of(changed)

    writer.delete("team-a/room")
    gone = client.get(poll, {"id": "team-a/room", "fp": fingerprint})
    assert "data-absent" in html_of(gone)


# ---- publish --------------------------------------------------------------------------------


@pytest.mark.parametrize("properties,message", [
    ('{"temp": 21,}', "Not valid JSON: Expecting property name enclosed in double quotes (line 1, column 13)."),
    ('[1, 2]', "Properties must be a JSON object ({...}), not an array."),
    ('{}', "Give at least one property: an empty object changes nothing."),
])
def test_publish_form_refuses_bad_json_under_the_field(personas, client_as, double,
                                                       properties, message):
    engine = make_engine(personas, double.url)
    response = client_as("operator").post(reverse("worldstate:publish", args=[engine.pk]), {
        "entity_id": "team-a/room", "properties": properties, "stream": "panel.manual",
        "source": "fluxpanel"})
    assert response.status_code == 200
    block = field_errors(html_of(response), "properties")
    assert 'class="errorlist"' in block and message in block.replace("&quot;", '"').replace("&#x27;", "'")
    assert double.entity_count() == 0  # nothing was sent
    assert not AuditEntry.objects.filter(action="worldstate.publish").exists()


def test_publish_form_checks_the_stream_like_the_engine(personas, client_as, double):
    engine = make_engine(personas, double.url)
    html = html_of(client_as("operator").post(reverse("worldstate:publish", args=[engine.pk]), {
        "entity_id": "team-a/room", "properties": '{"a": 1}', "stream": "Bad_Stream",
        "source": "x"}))
    assert "must be lowercase with optional dots" in field_errors(html, "stream")


def test_publish_sends_the_event_and_goes_to_the_entity(personas, client_as, double):
    engine = make_engine(personas, double.url)
    client = client_as("operator")
    page = html_of(client.get(reverse("worldstate:publish", args=[engine.pk]), {"entity": "team-a/room"}))
    assert 'value="team-a/room"' in page
    response = client.post(reverse("worldstate:publish", args=[engine.pk]), {
        "entity_id": "team-a/room", "properties": '{"temp": 21.5, "tags": ["a", "b"]}',
        "stream": "panel.manual", "source": "fluxpanel"})
    assert response.status_code == 302
    assert response["Location"] == reverse("worldstate:entity", args=[engine.pk]) + "?id=team-a%2Froom"
    stored = WorldStateClient(double.url).entity("team-a/room")
    assert stored.properties == {"temp": 21.5, "tags": ["a", "b"]}
    audit = AuditEntry.objects.get(action="worldstate.publish")
    assert audit.detail["entity_id"] == "team-a/room" and audit.outcome == "success"


# ---- namespaces, auth mode ------------------------------------------------------------------


def test_namespace_token_is_shown_once_encrypted_and_used_for_writes(personas, client_as, auth_double):
    engine = make_engine(personas, auth_double.url, namespace="")
    engine.set_admin_token(ADMIN)
    engine.save()
    manager = client_as("manager")
    response = manager.post(reverse("worldstate:namespace_register", args=[engine.pk]), {"name": "dawn-coral"})
    html = html_of(response)
    token = re.search(r"<code class=\"mono\" data-token>([^<]+)</code>", html).group(1)
    assert response["Cache-Control"] == "no-store"
    record = EngineNamespace.objects.get(engine=engine, name="dawn-coral")
    assert token not in record.token_encrypted and vault.decrypt(record.token_encrypted) == token
    assert auth_double.call(lambda e: e.namespaces["dawn-coral"].token) == token
    later = html_of(manager.get(reverse("worldstate:namespaces", args=[engine.pk])))
    assert token not in later and 'data-namespace="dawn-coral"' in later

    again = html_of(manager.post(reverse("worldstate:namespace_register", args=[engine.pk]), {"name": "dawn-coral"}))
    assert "Namespace name already exists" in field_errors(again, "name")
    short = html_of(manager.post(reverse("worldstate:namespace_register", args=[engine.pk]), {"name": "ab"}))
    assert "Namespace name too short (minimum 3 characters)" in field_errors(short, "name")

    # The operator's publish to dawn-coral/… carries that namespace's token.
    operator = client_as("operator")
    ok = operator.post(reverse("worldstate:publish", args=[engine.pk]), {
        "entity_id": "dawn-coral/pump", "properties": '{"on": true}', "stream": "panel.manual",
        "source": "fluxpanel"})
    assert ok.status_code == 302
    assert WorldStateClient(auth_double.url).entity("dawn-coral/pump").properties == {"on": True}
    refused = html_of(operator.post(reverse("worldstate:publish", args=[engine.pk]), {
        "entity_id": "stranger/pump", "properties": '{"on": true}', "stream": "panel.manual",
        "source": "fluxpanel"}))
    assert "The engine refused the event: Authorization token not provided (HTTP 401)" in refused


def test_namespace_registration_without_auth_says_why(personas, client_as, double):
    engine = make_engine(personas, double.url)
    html = html_of(client_as("manager").post(reverse("worldstate:namespace_register", args=[engine.pk]),
                                             {"name": "dawn-coral"}))
    assert "Namespace registration not available (auth disabled)" in html
    assert not EngineNamespace.objects.exists()


# ---- batch ----------------------------------------------------------------------------------


def test_batch_reports_each_refused_event(personas, client_as, auth_double):
    _id, token = auth_double.register_namespace("team-a")
    engine = make_engine(personas, auth_double.url)
    engine.set_token(token)
    engine.save()
    events = ('[{"entity_id": "team-a/a", "properties": {"n": 1}},'
              ' {"entity_id": "team-a/b", "properties": {"n": 2}, "stream": "other.stream"},'
              ' {"entity_id": "nobody/c", "properties": {"n": 3}}]')
    html = html_of(client_as("operator").post(reverse("worldstate:batch", args=[engine.pk]), {
        "events": events, "stream": "panel.batch", "source": "fluxpanel"}))
    assert 'data-successful="2"' in html and 'data-failed="1"' in html
    assert "authorization failed: Namespace not found" in html
    reader = WorldStateClient(auth_double.url)
    assert reader.entity("team-a/b").properties == {"n": 2}
    assert reader.history("team-a/b")[0]["stream"] == "other.stream"
    assert reader.entity("nobody/c") is None


def test_batch_form_lists_bad_items_and_sends_nothing(personas, client_as, double):
    engine = make_engine(personas, double.url)
    client = client_as("operator")
    url = reverse("worldstate:batch", args=[engine.pk])
    html = html_of(client.post(url, {"events": '[{"entity_id": "team-a/a", "properties": 5}, 7]',
                                     "stream": "panel.batch", "source": "x"}))
    block = field_errors(html, "events")
    assert "Event 1: properties must be a JSON object." in block
    assert "Event 2: must be a JSON object, not a number." in block
    html = html_of(client.post(url, {"events": '[{"entity_id": "team-a/a"', "stream": "panel.batch",
                                     "source": "x"}))
    assert "Not valid JSON" in field_errors(html, "events")
    assert double.entity_count() == 0
    # {"events": [...]} is accepted as well, and each item's stream defaults to the form's.
    client.post(url, {"events": '{"events": [{"entity_id": "team-a/a", "properties": {"x": 1}}]}',
                      "stream": "panel.batch", "source": "x"})
    assert WorldStateClient(double.url).history("team-a/a")[0]["stream"] == "panel.batch"


# ---- delete ---------------------------------------------------------------------------------


def test_delete_selected_asks_with_the_count_then_deletes(personas, client_as, double):
    double.seed({f"team-a/e{i}": {"n": i} for i in range(5)})
    engine = make_engine(personas, double.url)
    client = client_as("operator")
    url = reverse("worldstate:delete", args=[engine.pk])
    chosen = ["team-a/e1", "team-a/e2", "team-a/e4"]
    html = html_of(client.post(url, {"entity_ids": chosen}))
    assert "Delete 3 entities?" in html and 'data-count="3"' in html
    assert double.entity_count() == 5  # asking deletes nothing
    response = client.post(url, {"entity_ids": chosen, "expected": "3", "confirm": "1"})
    assert response.status_code == 302
    remaining = {e.id for e in WorldStateClient(double.url).entities()}
    assert remaining == {"team-a/e0", "team-a/e3"}
    assert AuditEntry.objects.get(action="worldstate.delete").detail["deleted"] == 3


def test_delete_by_prefix_counts_and_asks_again_when_the_count_moved(personas, client_as, double):
    double.seed({**{f"team-a/tmp-{i}": {"n": i} for i in range(25)}, "team-a/keep": {"n": 0}})
    engine = make_engine(personas, double.url)
    client = client_as("operator")
    url = reverse("worldstate:delete", args=[engine.pk])
    html = html_of(client.post(url, {"prefix": "team-a/tmp-"}))
    assert "Delete 25 entities?" in html and "…and 5 more" in html
    double.seed({"team-a/tmp-new": {"n": 1}})  # one more appears before the confirm
    html = html_of(client.post(url, {"prefix": "team-a/tmp-", "expected": "25", "confirm": "1"}))
    assert "it is now 26. Nothing was deleted" in html and "Delete 26 entities?" in html
    assert double.entity_count() == 27
    client.post(url, {"prefix": "team-a/tmp-", "expected": "26", "confirm": "1"})
    assert [e.id for e in WorldStateClient(double.url).entities()] == ["team-a/keep"]
    # An empty prefix would mean "everything": refused without asking the engine to delete.
    response = client.post(url, {"prefix": "", "expected": "1", "confirm": "1"}, follow=True)
    assert "An empty prefix would match every entity; refused." in html_of(response)
    assert double.entity_count() == 1


def test_delete_one_from_the_entity_page(personas, client_as, double):
    double.seed({"team-a/solo": {"n": 1}})
    engine = make_engine(personas, double.url)
    client = client_as("operator")
    entity_url = reverse("worldstate:entity", args=[engine.pk]) + "?id=team-a%2Fsolo"
    html = html_of(client.post(reverse("worldstate:delete", args=[engine.pk]),
                               {"entity_ids": "team-a/solo", "next": entity_url}))
    assert "Delete 1 entity?" in html
    response = client.post(reverse("worldstate:delete", args=[engine.pk]), {
        "entity_ids": "team-a/solo", "next": entity_url, "expected": "1", "confirm": "1"})
    assert response["Location"] == reverse("worldstate:entities", args=[engine.pk])
    assert double.entity_count() == 0


def test_delete_never_redirects_off_site(personas, client_as, double):
    engine = make_engine(personas, double.url)
    response = client_as("operator").post(reverse("worldstate:delete", args=[engine.pk]),
                                          {"next": "//evil.example/"})
    assert response["Location"] == reverse("worldstate:entities", args=[engine.pk])


# ---- connectors and runtime config ----------------------------------------------------------


def test_connectors_are_listed(personas, client_as, double):
    engine = make_engine(personas, double.url)
    html = html_of(client_as("viewer").get(reverse("worldstate:connectors", args=[engine.pk])))
    assert re.findall(r'data-connector="(\w+)"', html) == ["github", "gmail", "linkedin", "calendar"]
    assert "not_configured" in html


def test_runtime_config_is_read_by_viewers_and_changed_by_managers(personas, client_as, auth_double):
    engine = make_engine(personas, auth_double.url)
    viewer_html = html_of(client_as("viewer").get(reverse("worldstate:config", args=[engine.pk])))
    assert "10000" in viewer_html and "config-form" not in viewer_html
    manager = client_as("manager")
    data = {"rate_limit_enabled": "on", "rate_limit_per_namespace_per_minute": 600,
            "body_size_limit_single_bytes": 65536, "body_size_limit_batch_bytes": 1048576}
    refused = html_of(manager.post(reverse("worldstate:config_edit", args=[engine.pk]), data))
    assert "The engine refused the change: Unauthorized (HTTP 401)" in refused  # no admin token
    engine.set_admin_token(ADMIN)
    engine.save()
    assert manager.post(reverse("worldstate:config_edit", args=[engine.pk]), data).status_code == 302
    assert auth_double.call(lambda e: dict(e.config)) == {
        "rate_limit_enabled": True, "rate_limit_per_namespace_per_minute": 600,
        "body_size_limit_single_bytes": 65536, "body_size_limit_batch_bytes": 1048576}
    zero = html_of(manager.post(reverse("worldstate:config_edit", args=[engine.pk]),
                                {**data, "body_size_limit_single_bytes": 0}))
    assert "greater than or equal to 1" in field_errors(zero, "body_size_limit_single_bytes")
