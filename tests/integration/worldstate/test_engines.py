"""Engines and their tokens: registration, settings, an engine that does not answer."""
from __future__ import annotations

from django.urls import reverse

from apps.accounts.models import AuditEntry
from apps.worldstate.models import Engine
from fluxpanel import vault
from tests.integration.worldstate.pages import DEAD_URL, field_errors, html_of, make_engine

# ---- engines and tokens ---------------------------------------------------------------------


def test_it_register_engine_keeps_tokens_encrypted_and_never_shows_them(personas, client_as, double):
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


def test_it_settings_keep_tokens_when_left_blank_and_bridge_needs_namespace(personas, client_as, double):
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


def test_it_an_unreachable_engine_gives_a_clear_message(personas, client_as):
    engine = make_engine(personas, DEAD_URL)
    client = client_as("viewer")
    html = html_of(client.get(reverse("worldstate:entities", args=[engine.pk])))
    assert "cannot be reached" in html
    assert 'data-health="down"' in html_of(client.get(reverse("worldstate:engine", args=[engine.pk])))
    assert "cannot be reached" in html_of(client.get(reverse("worldstate:connectors", args=[engine.pk])))


def test_it_answers_404_for_an_engine_id_past_the_database_range(personas, client_as):
    response = client_as("viewer").get(f"/worldstate/{10**30}/entities/")
    assert response.status_code == 404
