"""Where the panel sends world-state calls (issue 10, F2 and F3).

F2: an engine URL is an address a team manager types in, and the panel calls it at once and on
every page. Loopback, private, link-local, CGNAT and metadata addresses, and names resolving to
them, are refused in the form and again, pinned, at every connection; redirects are not followed;
error bodies are summarised, never echoed.
F3: stored tokens never follow the engine URL to another host.

The servers are real HTTP servers on loopback. The only stand-in is the system resolver
(socket.getaddrinfo), as in tests/unit/platform/test_netguard.py: a test cannot make a public DNS
name resolve to 10.x or change its answer between the form's check and the call.
"""
from __future__ import annotations

import socket

import pytest
from django.urls import reverse

from apps.accounts.models import AuditEntry
from apps.worldstate.client import WorldStateClient, WorldStateUnavailable
from apps.worldstate.models import Engine, EngineNamespace
from fluxpanel import vault
from tests.integration.worldstate.pages import InternalService, field_errors, html_of, make_engine


@pytest.fixture
def production(settings):
    """The default outbound policy: no private engines (tests/settings.py allows them)."""
    settings.ALLOW_PRIVATE_ENGINES = False
    return settings


@pytest.fixture
def fake_dns(monkeypatch):
    """Names → the addresses the attacker's DNS gives, one per lookup (the last one repeats)."""
    real_getaddrinfo = socket.getaddrinfo
    answers: dict[str, list[str]] = {}

    def resolve(host, port, *args, **kwargs):
        if host in answers:
            queue = answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            return real_getaddrinfo(address, port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return answers


def register(client, base_url: str):
    return client.post(reverse("worldstate:engine_register"),
                       {"name": "probe", "base_url": base_url, "namespace": "team-a"})


# ---- F2: refused addresses ------------------------------------------------------------------


@pytest.mark.parametrize("host", [
    "127.0.0.1", "[::1]", "169.254.169.254", "10.0.0.7", "192.168.1.1", "100.64.0.1",
    "192.0.0.8", "[::ffff:127.0.0.1]", "0.0.0.0", "localhost", "metadata.google.internal",
])
def test_it_refuses_to_register_an_engine_on_an_internal_address(production, personas, client_as,
                                                                  host):
    response = register(client_as("manager"), f"http://{host}:3000")
    assert response.status_code == 200
    assert "the panel only calls public addresses" in field_errors(html_of(response), "base_url") \
        or "local or metadata name" in field_errors(html_of(response), "base_url")
    assert not Engine.objects.filter(team=personas.team).exists()


def test_it_refuses_an_engine_on_loopback_and_never_calls_it(production, personas, client_as,
                                                             internal_service):
    response = register(client_as("manager"), internal_service.url)
    assert "127.0.0.1: it is a loopback address" in field_errors(html_of(response), "base_url")
    assert internal_service.hits == []
    assert not Engine.objects.exists()


def test_it_refuses_a_name_that_resolves_to_a_private_address(production, personas, client_as,
                                                              fake_dns):
    fake_dns["engine.attacker.example"] = ["10.1.2.3"]
    response = register(client_as("manager"), "https://engine.attacker.example")
    assert "engine.attacker.example resolves to 10.1.2.3: it is a private address" in \
        field_errors(html_of(response), "base_url")
    assert not Engine.objects.exists()


def test_it_pins_the_checked_address_so_a_rebinding_name_never_reaches_loopback(
        production, personas, client_as, fake_dns, internal_service):
    """The name is public when the form checks it and loopback when the page calls the engine:
    the connection's own resolution is checked again, so nothing reaches the internal service."""
    port = internal_service.url.rsplit(":", 1)[1]
    fake_dns["rebind.attacker.example"] = ["93.184.216.34", "127.0.0.1"]
    client = client_as("manager")
    response = register(client, f"http://rebind.attacker.example:{port}")
    assert response.status_code == 302
    html = html_of(client.get(response["Location"]))
    assert "does not answer yet" in html
    for page in ("engine", "entities", "connectors", "config"):
        html = html_of(client.get(reverse(f"worldstate:{page}", args=[Engine.objects.get().pk])))
        assert InternalService.SECRET not in html
    assert internal_service.hits == []


def test_it_does_not_follow_a_redirect_to_an_internal_service(personas, client_as, double,
                                                             internal_service):
    double.configure(fault="redirect", fault_location=internal_service.url + "/api/state/entities")
    engine = make_engine(personas, double.url)
    html = html_of(client_as("viewer").get(reverse("worldstate:entities", args=[engine.pk])))
    assert "The engine answered a redirect; the panel does not follow redirects" in html
    assert internal_service.hits == [] and InternalService.SECRET not in html


@pytest.mark.parametrize("page,query", [
    ("entities", {}), ("entity", {"id": "team-a/x"}), ("connectors", {}), ("config", {}),
])
def test_it_summarises_an_error_page_and_never_echoes_its_body(personas, client_as, double, page,
                                                               query):
    double.configure(fault="error_page", fault_body="<p>db password: hunter2-7c1e</p>")
    engine = make_engine(personas, double.url)
    response = client_as("viewer").get(reverse(f"worldstate:{page}", args=[engine.pk]), query)
    html = html_of(response)
    assert response.status_code == 200
    assert "hunter2-7c1e" not in html and "db password" not in html
    assert "The engine answered an error (" in html and "text/html; not shown) (HTTP 500)" in html


def test_it_refuses_loopback_in_the_client_itself_and_in_live_updates(double):
    """The default of the client is the production rule, for every caller (and the WebSocket)."""
    with pytest.raises(WorldStateUnavailable, match="The panel does not call .*loopback"):
        WorldStateClient(double.url, timeout=2).entities()
    with pytest.raises(WorldStateUnavailable, match="The panel does not open .*loopback"):
        WorldStateClient(double.url, timeout=2).subscribe()


def test_it_refuses_a_stored_engine_on_loopback_at_call_time(production, personas, client_as,
                                                            internal_service):
    """An engine row saved before the rule (or by other code) is still refused when called."""
    engine = make_engine(personas, internal_service.url)
    html = html_of(client_as("viewer").get(reverse("worldstate:entities", args=[engine.pk])))
    assert "The panel does not call" in html and "loopback" in html
    assert internal_service.hits == []


# ---- F3: tokens never follow the URL ----------------------------------------------------------


def _engine_with_tokens(personas, url) -> Engine:
    engine = make_engine(personas, url)
    engine.set_token("ns-token-for-the-old-host")
    engine.set_admin_token("admin-token-for-the-old-host")
    engine.save()
    EngineNamespace.objects.create(engine=engine, name="other", namespace_id="n1",
                                   token_encrypted=vault.encrypt("other-namespace-token"))
    return engine


def _settings(client, engine, base_url, **extra):
    return client.post(reverse("worldstate:engine_settings", args=[engine.pk]),
                       {"name": engine.name, "base_url": base_url, "namespace": "team-a", **extra},
                       follow=True)


def test_it_forgets_the_tokens_when_the_url_moves_to_another_host(personas, client_as, double,
                                                                 internal_service):
    engine = _engine_with_tokens(personas, double.url)
    client = client_as("manager")
    response = _settings(client, engine, internal_service.url)
    assert "stored tokens (and the namespaces registered through the panel) were removed" in \
        html_of(response)
    engine.refresh_from_db()
    assert not engine.has_token and not engine.has_admin_token
    assert not EngineNamespace.objects.filter(engine=engine).exists()
    client.get(reverse("worldstate:connectors", args=[engine.pk]))  # sends the token, if any
    client.post(reverse("worldstate:publish", args=[engine.pk]),
                {"entity_id": "other/x", "properties": '{"a": 1}', "stream": "panel.manual",
                 "source": "test"})
    sent = " ".join(str(headers) for _, _, headers in internal_service.hits)
    assert internal_service.hits and "old-host" not in sent and "other-namespace-token" not in sent
    update = AuditEntry.objects.filter(action="worldstate.engine.update").latest("pk")
    assert update.detail["new_host"] is True and update.detail["token"] == "removed"


def test_it_keeps_the_tokens_on_the_same_host_and_new_ones_typed_with_a_new_host(
        personas, client_as, double, internal_service):
    engine = _engine_with_tokens(personas, double.url)
    client = client_as("manager")
    _settings(client, engine, double.url + "/")  # same scheme, host and port
    engine.refresh_from_db()
    assert engine.token() == "ns-token-for-the-old-host" and engine.namespaces.count() == 1
    _settings(client, engine, internal_service.url, token="token-for-the-new-host")
    engine.refresh_from_db()
    assert engine.token() == "token-for-the-new-host" and not engine.has_admin_token
