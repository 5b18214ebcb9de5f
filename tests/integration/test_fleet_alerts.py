"""Alerts: one notice per state change, one recovery notice, muted under a maintenance claim.

Webhooks are received by a real HTTP server on loopback.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.alerts import evaluate_alerts
from apps.nodes.models import AlertDelivery
from apps.nodes.sweep import run_sweep


class Receiver:
    def __init__(self):
        self.payloads = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                outer.payloads.append((self.headers.get("Content-Type"), json.loads(self.rfile.read(length))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def alerting(personas, fleet, settings, receiver):
    settings.ALLOW_ANY_NODE_URL = True
    settings.ALLOW_PRIVATE_WEBHOOKS = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    nodes = sorted(actions.register_nodes(membership=manager, text="\n".join(fleet.urls)), key=lambda n: n.pk)
    actions.create_alert_rule(membership=manager, kind="node_down", email="ops@example.com",
                              webhook_url=receiver.url)
    return personas, manager, nodes, fleet


def sweep_and_alert(team):
    run_sweep(team.pk)
    return evaluate_alerts(team.pk)


def test_one_alert_per_change_and_one_recovery(alerting, receiver):
    personas, manager, nodes, fleet = alerting
    assert sweep_and_alert(personas.team) == []
    fleet.inject(3, "down")
    fired = sweep_and_alert(personas.team)
    assert [(d.kind, d.node_id) for d in fired] == [("firing", nodes[3].pk)]
    assert sweep_and_alert(personas.team) == []  # still down: no storm
    assert sweep_and_alert(personas.team) == []
    fleet.clear(3)
    resolved = sweep_and_alert(personas.team)
    assert [(d.kind, d.node_id) for d in resolved] == [("resolved", nodes[3].pk)]
    kinds = [payload["kind"] for _, payload in receiver.payloads]
    assert kinds == ["firing", "resolved"]
    content_type, first = receiver.payloads[0]
    assert content_type == "application/json"
    assert first["rule"] == "node_down" and first["node"] == nodes[3].name
    assert "Unreachable" in first["message"]
    assert [m.subject for m in mail.outbox] == [
        f"[fluxpanel] {fired[0].message}", f"[fluxpanel] {resolved[0].message}"]
    assert AlertDelivery.objects.get(kind="firing").channels == {"email": "sent", "webhook": "sent"}


def test_claimed_node_is_muted(alerting, receiver):
    personas, manager, nodes, fleet = alerting
    sweep_and_alert(personas.team)
    operator = Membership.objects.get(user=personas.operator, team=personas.team)
    actions.claim_node(membership=operator, node=nodes[1], minutes=30, note="kernel update")
    fleet.inject(1, "down")
    fired = sweep_and_alert(personas.team)
    assert len(fired) == 1 and fired[0].muted
    assert receiver.payloads == [] and mail.outbox == []


def test_private_webhook_refused_by_default(personas, settings):
    settings.ALLOW_PRIVATE_WEBHOOKS = False
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    with pytest.raises(Exception, match="private address"):
        actions.create_alert_rule(membership=manager, kind="node_down", webhook_url="http://127.0.0.1:9/x")
    with pytest.raises(Exception, match="private address"):
        actions.create_alert_rule(membership=manager, kind="node_down", webhook_url="http://10.1.2.3/x")


def test_height_and_maintenance_rules(alerting):
    personas, manager, nodes, fleet = alerting
    actions.create_alert_rule(membership=manager, kind="height_behind", threshold=10, email="a@example.com")
    sweep_and_alert(personas.team)
    fleet.inject(6, "behind", blocks=25)
    fired = sweep_and_alert(personas.team)
    assert [(d.rule.kind, d.node_id) for d in fired] == [("height_behind", nodes[6].pk)]
    assert "25 blocks behind" in fired[0].message
