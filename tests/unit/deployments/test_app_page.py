"""The app page: one URL, tabs as htmx partials, history from a source over loopback HTTP."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from apps.deployments.models import AppInstance, AppStateChange, AppSyncSettings, TeamApp
from apps.nodes.models import Node
from tests.loopback import LoopbackServer
from tests.unit.deployments.factories import OWNER

SPEC = {"version": 8, "name": "webapp", "owner": OWNER, "instances": 3, "compose": [
    {"name": "front", "repotag": "runonflux/website:latest", "ports": [30000], "cpu": 0.5, "ram": 500, "hdd": 5,
     "environmentParameters": ["A=1", "B=2"], "domains": ["example.com"]},
    {"name": "db", "repotag": "mongo:7", "ports": [30001], "cpu": 1, "ram": 1000, "hdd": 10,
     "environmentParameters": [], "domains": [""]},
]}


@pytest.fixture
def app(personas):
    app = TeamApp.objects.create(
        team=personas.team, name="webapp", owner=OWNER, spec=SPEC, spec_version=8, components=2,
        instances_wanted=3, instances_running=2, status="degraded", reason="2 of 3 instances run",
        expires_at=timezone.now() + timedelta(days=3, hours=2), expiry_height=2_300_000, expire=88000,
        monthly_usd=Decimal("4.20"), renewal_usd=Decimal("12.60"), renewal_flux=Decimal("25.10"))
    node = Node.objects.create(team=personas.team, name="mine-1", address="203.0.113.5:16127",
                               base_url="http://203.0.113.5:16127")
    AppInstance.objects.create(app=app, team=personas.team, location="203.0.113.5:16127", node=node,
                               state="running", country="Germany", region="Hesse")
    AppInstance.objects.create(app=app, team=personas.team, location="198.51.100.7", state="unreachable",
                               reason="timed out after 5 s")
    AppStateChange.objects.create(app=app, team=personas.team, old_status="healthy", new_status="degraded",
                                  old_running=3, new_running=2, wanted=3, reason="one node stopped it")
    cache.clear()
    return app


def url(app, tab=None):
    base = reverse("deployments:detail", args=[app.pk])
    return f"{base}?tab={tab}" if tab else base


def get(client, app, tab=None, htmx=False):
    response = client.get(url(app, tab), **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_overview_with_recent_changes(app, client_as):
    text = get(client_as("viewer"), app)
    assert "2 running / 3 wanted" in text and "2 of 3 instances run" in text
    assert "one node stopped it" in text and "(3 days left)" in text and "$4.20" in text
    assert f'href="{url(app, "overview")}" hx-get="{url(app, "overview")}"' in text
    assert 'aria-current="page">Overview<' in text


@pytest.mark.parametrize("tab", ["spec", "instances", "subscription", "overview"])
def test_it_serves_each_tab_as_a_partial_for_htmx_and_a_page_without(app, client_as, tab):
    client = client_as("viewer")
    partial = get(client, app, tab, htmx=True)
    assert "<html" not in partial and f'data-tab="{tab}"' in partial
    assert f'hx-get="{url(app, tab)}" hx-target="#app-tab" hx-swap="outerHTML" hx-push-url="true" aria-current="page"' in partial
    assert "<html" in get(client, app, tab)


def test_it_shows_the_specification_per_component_and_the_json(app, client_as):
    text = get(client_as("viewer"), app, "spec")
    assert 'data-component="front"' in text and "runonflux/website:latest" in text and "example.com" in text
    assert "<td>2</td>" in text  # env count of front
    assert 'data-copy="#spec-json"' in text and "&quot;repotag&quot;: &quot;mongo:7&quot;" in text


def test_it_lists_instances_with_node_links(app, client_as):
    text = get(client_as("viewer"), app, "instances")
    node = Node.objects.get(name="mine-1")
    assert f'href="{reverse("nodes:detail", args=[node.pk])}"' in text and "Germany / Hesse" in text
    assert "timed out after 5 s" in text and "not registered" in text


def test_it_shows_the_subscription_and_a_renew_placeholder_for_operators(app, client_as):
    viewer = get(client_as("viewer"), app, "subscription")
    assert "2300000" in viewer and "$12.60" in viewer and "25.10 FLUX" in viewer
    assert "Renewing opens in the spec builder (coming)" not in viewer
    operator = get(client_as("operator"), app, "subscription")
    assert "Renewing opens in the spec builder (coming)" in operator and "disabled" in operator


def test_it_answers_404_for_another_teams_app_and_an_unknown_tab(app, client_as, personas):
    assert client_as("outsider").get(url(app)).status_code == 404
    assert client_as("viewer").get(url(app, "nope")).status_code == 404


def test_it_shows_drop_and_restore_to_managers_only(app, client_as):
    assert reverse("deployments:app_drop", args=[app.pk]) not in get(client_as("viewer"), app)
    assert reverse("deployments:app_drop", args=[app.pk]) not in get(client_as("operator"), app)
    assert reverse("deployments:app_drop", args=[app.pk]) in get(client_as("manager"), app)
    TeamApp.objects.filter(pk=app.pk).update(dropped=True)
    assert reverse("deployments:app_restore", args=[app.pk]) in get(client_as("manager"), app)


def _source(body: bytes, status=200):
    class Handler(BaseHTTPRequestHandler):
        requests: list[str] = []

        def do_GET(self):  # noqa: N802
            Handler.requests.append(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def source(personas, settings):
    settings.ALLOW_ANY_NODE_URL = True
    servers = []

    def serve(body, status=200):
        handler = _source(body if isinstance(body, bytes) else json.dumps(body).encode(), status)
        server = LoopbackServer(handler)
        servers.append(server)
        AppSyncSettings.objects.update_or_create(team=personas.team, defaults={"gateway_url": server.origin})
        return handler

    yield serve
    for server in servers:
        server.close()


def _message(height, **spec):
    return {"type": "fluxappupdate", "version": 1, "hash": f"{height:064x}", "timestamp": 1_700_000_000_000,
            "height": height, "appSpecifications": {**SPEC, **spec}}


def test_it_shows_the_history_with_diffs_from_a_source(app, client_as, source):
    front = {**SPEC["compose"][0], "cpu": 1}
    handler = source({"status": "success", "data": [
        _message(200, compose=[front, SPEC["compose"][1]]), _message(100)]})
    client = client_as("viewer")
    text = get(client, app, "history", htmx=True)
    assert handler.requests == ["/apps/permanentmessages?appname=webapp"]
    assert 'data-version="200"' in text and 'data-version="100"' in text
    assert "compose[front].cpu: 0.5 → 1" in text and "First version." in text
    get(client, app, "history", htmx=True)
    assert len(handler.requests) == 1  # cached for 60 s


@pytest.mark.parametrize("body,status,reason", [
    (b"<html>not json</html>", 200, ""),
    ({"status": "success", "data": "garbage"}, 200, "not a FluxOS answer"),
    ({"status": "error", "data": {"message": "Application not found"}}, 200, "Application not found"),
    (b"oops", 500, "500"),
])
def test_it_shows_a_failing_source_with_its_reason_never_a_500(app, client_as, source, body, status, reason):
    source(body, status)
    text = get(client_as("viewer"), app, "history")
    assert "data-history-error" in text and reason in text


def test_it_says_when_there_is_no_source(app, client_as):
    assert "No source to ask" in get(client_as("viewer"), app, "history")


def test_it_refuses_a_loopback_source_outside_development(app, client_as, source, settings):
    source({"status": "success", "data": []})
    settings.ALLOW_ANY_NODE_URL = False
    assert "data-history-error" in get(client_as("viewer"), app, "history")


def test_it_gives_up_on_a_hanging_source_with_the_reason(app, client_as, personas, settings, monkeypatch):
    import time as clock

    from apps.deployments import history

    class Hanging(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            clock.sleep(3)

        def log_message(self, *args):
            pass

    settings.ALLOW_ANY_NODE_URL = True
    monkeypatch.setattr(history, "SOURCE_TIMEOUT", (0.5, 0.5))
    monkeypatch.setattr(history, "SOURCE_DEADLINE_S", 0.8)
    server = LoopbackServer(Hanging)
    try:
        AppSyncSettings.objects.create(team=personas.team, gateway_url=server.origin)
        started = clock.monotonic()
        text = get(client_as("viewer"), app, "history")
        assert clock.monotonic() - started < 2.5
        assert "data-history-error" in text and "no answer within 0.5 s" in text
    finally:
        server.close()
