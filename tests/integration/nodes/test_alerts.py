"""Alerts: one notice per state change, one recovery notice, muted under a maintenance claim;
sent from the outbox; webhooks only to public addresses (issue 10 F10).

Webhooks are received by a real HTTP server on loopback.
"""
from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.alerts import evaluate_alerts, send_pending_alerts
from apps.nodes.models import AlertDelivery, AlertRule
from apps.nodes.sweep import run_sweep
from tests.integration.nodes.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


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
    recorded = evaluate_alerts(team.pk)
    send_pending_alerts()
    return recorded


def test_it_one_alert_per_change_and_one_recovery(alerting, receiver):
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
    assert first["message"].endswith(": connection reset")  # the short reason, no Python text
    assert "ConnectionResetError" in first["detail"]  # the technical detail rides along
    assert [m.subject for m in mail.outbox] == [
        f"[fluxpanel] {fired[0].message}", f"[fluxpanel] {resolved[0].message}"]
    assert AlertDelivery.objects.get(kind="firing").channels == {"email": "sent", "webhook": "sent"}


def test_it_claimed_node_is_muted(alerting, receiver):
    personas, manager, nodes, fleet = alerting
    sweep_and_alert(personas.team)
    operator = Membership.objects.get(user=personas.operator, team=personas.team)
    actions.claim_node(membership=operator, node=nodes[1], minutes=30, note="kernel update")
    fleet.inject(1, "down")
    fired = sweep_and_alert(personas.team)
    assert len(fired) == 1 and fired[0].muted
    assert receiver.payloads == [] and mail.outbox == []


@pytest.mark.parametrize("url,reason", [
    ("http://127.0.0.1:9/x", "loopback"),
    ("http://10.1.2.3/x", "private"),
    ("http://100.64.0.1/x", "not a public address"),  # CGNAT: not is_private, let through before
    ("http://192.0.0.8/x", "not a public address"),   # IETF protocol assignment, let through before
    ("http://[::ffff:10.0.0.1]/x", "embeds 10.0.0.1"),
    ("http://metadata.google.internal/x", "metadata name"),
])
def test_it_refuses_a_webhook_that_is_not_public(personas, settings, client_as, url, reason):
    settings.ALLOW_PRIVATE_WEBHOOKS = False
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    with pytest.raises(ValidationError, match=reason):
        actions.create_alert_rule(membership=manager, kind="node_down", webhook_url=url)
    html = client_as("manager").post(reverse("nodes:alert_create"), {"kind": "node_down", "webhook_url": url},
                                     follow=True).content.decode()
    assert "Webhook refused" in html
    assert AlertRule.objects.count() == 0


def test_it_height_and_maintenance_rules(alerting):
    personas, manager, nodes, fleet = alerting
    actions.create_alert_rule(membership=manager, kind="height_behind", threshold=10, email="a@example.com")
    sweep_and_alert(personas.team)
    fleet.inject(6, "behind", blocks=25)
    fired = sweep_and_alert(personas.team)
    assert [(d.rule.kind, d.node_id) for d in fired] == [("height_behind", nodes[6].pk)]
    assert "25 blocks behind" in fired[0].message
