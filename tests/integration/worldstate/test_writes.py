"""Writes from the pages: publish with validation, namespaces in auth mode, batch, delete with a count."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.accounts.models import AuditEntry
from apps.worldstate.models import EngineNamespace
from fluxpanel import vault
from tests.integration.worldstate.pages import ADMIN, field_errors, html_of, make_engine
from tests.sim.worldstate import loopback_client

# ---- publish --------------------------------------------------------------------------------


@pytest.mark.parametrize("properties,message", [
    ('{"temp": 21,}', "Not valid JSON: Expecting property name enclosed in double quotes (line 1, column 13)."),
    ('[1, 2]', "Properties must be a JSON object ({...}), not an array."),
    ('{}', "Give at least one property: an empty object changes nothing."),
])
def test_it_publish_form_refuses_bad_json_under_the_field(personas, client_as, double,
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


def test_it_publish_form_checks_the_stream_like_the_engine(personas, client_as, double):
    engine = make_engine(personas, double.url)
    html = html_of(client_as("operator").post(reverse("worldstate:publish", args=[engine.pk]), {
        "entity_id": "team-a/room", "properties": '{"a": 1}', "stream": "Bad_Stream",
        "source": "x"}))
    assert "must be lowercase with optional dots" in field_errors(html, "stream")


def test_it_publish_sends_the_event_and_goes_to_the_entity(personas, client_as, double):
    engine = make_engine(personas, double.url)
    client = client_as("operator")
    page = html_of(client.get(reverse("worldstate:publish", args=[engine.pk]), {"entity": "team-a/room"}))
    assert 'value="team-a/room"' in page
    response = client.post(reverse("worldstate:publish", args=[engine.pk]), {
        "entity_id": "team-a/room", "properties": '{"temp": 21.5, "tags": ["a", "b"]}',
        "stream": "panel.manual", "source": "fluxpanel"})
    assert response.status_code == 302
    assert response["Location"] == reverse("worldstate:entity", args=[engine.pk]) + "?id=team-a%2Froom"
    stored = loopback_client(double.url).entity("team-a/room")
    assert stored.properties == {"temp": 21.5, "tags": ["a", "b"]}
    audit = AuditEntry.objects.get(action="worldstate.publish")
    assert audit.detail["entity_id"] == "team-a/room" and audit.outcome == "success"


# ---- namespaces, auth mode ------------------------------------------------------------------


def test_it_namespace_token_is_shown_once_encrypted_and_used_for_writes(personas, client_as, auth_double):
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
    assert loopback_client(auth_double.url).entity("dawn-coral/pump").properties == {"on": True}
    refused = html_of(operator.post(reverse("worldstate:publish", args=[engine.pk]), {
        "entity_id": "stranger/pump", "properties": '{"on": true}', "stream": "panel.manual",
        "source": "fluxpanel"}))
    assert "The engine refused the event: Authorization token not provided (HTTP 401)" in refused


def test_it_namespace_registration_without_auth_says_why(personas, client_as, double):
    engine = make_engine(personas, double.url)
    html = html_of(client_as("manager").post(reverse("worldstate:namespace_register", args=[engine.pk]),
                                             {"name": "dawn-coral"}))
    assert "Namespace registration not available (auth disabled)" in html
    assert not EngineNamespace.objects.exists()


# ---- batch ----------------------------------------------------------------------------------


def test_it_batch_reports_each_refused_event(personas, client_as, auth_double):
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
    reader = loopback_client(auth_double.url)
    assert reader.entity("team-a/b").properties == {"n": 2}
    assert reader.history("team-a/b")[0]["stream"] == "other.stream"
    assert reader.entity("nobody/c") is None


def test_it_batch_form_lists_bad_items_and_sends_nothing(personas, client_as, double):
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
    assert loopback_client(double.url).history("team-a/a")[0]["stream"] == "panel.batch"


# ---- delete ---------------------------------------------------------------------------------


def test_it_delete_selected_asks_with_the_count_then_deletes(personas, client_as, double):
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
    remaining = {e.id for e in loopback_client(double.url).entities()}
    assert remaining == {"team-a/e0", "team-a/e3"}
    assert AuditEntry.objects.get(action="worldstate.delete").detail["deleted"] == 3


def test_it_delete_by_prefix_counts_and_asks_again_when_the_count_moved(personas, client_as, double):
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
    assert [e.id for e in loopback_client(double.url).entities()] == ["team-a/keep"]
    # An empty prefix would mean "everything": refused without asking the engine to delete.
    response = client.post(url, {"prefix": "", "expected": "1", "confirm": "1"}, follow=True)
    assert "An empty prefix would match every entity; refused." in html_of(response)
    assert double.entity_count() == 1


def test_it_delete_one_from_the_entity_page(personas, client_as, double):
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


def test_it_delete_never_redirects_off_site(personas, client_as, double):
    engine = make_engine(personas, double.url)
    response = client_as("operator").post(reverse("worldstate:delete", args=[engine.pk]),
                                          {"next": "//evil.example/"})
    assert response["Location"] == reverse("worldstate:entities", args=[engine.pk])


@pytest.mark.parametrize("view,field,text", [
    ("publish", "properties", "[" * 100_000 + "]" * 100_000),
    ("publish", "properties", '{"label": "\\ud800"}'),
    ("batch", "events", "[" * 100_000 + "]" * 100_000),
    ("batch", "events", '[{"entity_id": "team-a/\\udc00", "properties": {"a": 1}}]'),
])
def test_it_explains_deep_json_and_lone_surrogates_under_the_field(personas, client_as, double,
                                                                   view, field, text):
    """Issue 10, F9: json.loads raises RecursionError on deep nesting and a lone surrogate cannot
    be encoded; both were 500s. Now a form error, and nothing reaches the engine."""
    engine = make_engine(personas, double.url)
    data = {field: text, "stream": f"panel.{view}", "source": "t", "entity_id": "team-a/x"}
    response = client_as("operator").post(reverse(f"worldstate:{view}", args=[engine.pk]), data)
    assert response.status_code == 200
    errors = field_errors(html_of(response), field)
    assert "nested too deeply" in errors or "lone surrogate" in errors
    assert double.entity_count() == 0


def test_it_goes_back_to_the_entities_for_a_next_that_is_not_a_path(personas, client_as, double):
    """`next=²` passes the open-redirect check (a relative URL) but redirect() took it for a view
    name: NoReverseMatch, a 500 found by the fuzz."""
    engine = make_engine(personas, double.url)
    response = client_as("operator").post(reverse("worldstate:delete", args=[engine.pk]),
                                          {"entity_ids": "team-a/x", "expected": "1",
                                           "confirm": "1", "next": "²"})
    assert response.status_code == 302
    assert response["Location"] == reverse("worldstate:entities", args=[engine.pk])
