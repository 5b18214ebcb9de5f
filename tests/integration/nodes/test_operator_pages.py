"""Issue 12 items 1–3 with faults injected into the simulated fleet: the fleet row, the node page,
the status history and the alert mail say a short reason an operator understands (the technical
detail one click away), a down node keeps its last-known facts marked "as of", and uptime is
over the time watched, with a timeline per window."""
from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.alerts import evaluate_alerts, send_pending_alerts
from apps.nodes.models import NodeSnapshot, StatusChange
from apps.nodes.sweep import run_sweep

FAULTS = [  # fault → the short reason shown everywhere
    ("down", "connection reset"),
    ("http500", "answered HTTP 500"),
    ("malformed", "not a FluxOS answer"),
    ("hang", "timed out after 1 s"),
    ("garbage", "unusable values in /flux/info"),
]
PYTHON_TEXT = re.compile(r"Error\(|Errno|Max retries|Pool\(|Traceback")


@pytest.fixture
def watched(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.SWEEP_TIMEOUT_SECONDS = 1
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    nodes = sorted(actions.register_nodes(membership=manager, text="\n".join(fleet.urls[:6])), key=lambda n: n.pk)
    actions.create_alert_rule(membership=manager, kind="node_down", email="ops@example.com", webhook_url="")
    run_sweep(personas.team.pk)
    evaluate_alerts(personas.team.pk)
    return personas, nodes, fleet


def visible_text(html: str) -> str:
    """What a reader sees without opening anything: <details> bodies and tags removed."""
    html = re.sub(r"<span class=\"mono[^\"]*reason-detail\">.*?</span>", "", html, flags=re.S)
    html = re.sub(r"<(script|title)[^>]*>.*?</\1>", "", html, flags=re.S)
    html = re.sub(r"\stitle=\"[^\"]*\"", "", html)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("fault,short", FAULTS)
def test_it_says_a_short_reason_on_every_page_with_the_detail_one_click_away(
        watched, client_as, fault, short):
    personas, nodes, fleet = watched
    node = nodes[1]
    before = NodeSnapshot.objects.get(node=node)
    assert before.state == "confirmed" and before.version and before.tier
    fleet.inject(1, fault)
    run_sweep(personas.team.pk)
    evaluate_alerts(personas.team.pk)
    mail.outbox.clear()
    assert send_pending_alerts() == 1

    snap = NodeSnapshot.objects.get(node=node)
    assert snap.reason == short and snap.reason_detail and not PYTHON_TEXT.search(snap.reason)

    viewer = client_as("viewer")
    fleet_html = viewer.get(reverse("nodes:fleet")).content.decode()
    row = re.search(rf'<tr data-node="{node.pk}">.*?</tr>', fleet_html, re.S).group(0)
    assert f"<summary>{short}</summary>" in row  # the detail is one click away
    assert not PYTHON_TEXT.search(visible_text(row))
    # Last-known facts, marked as of the last answer.
    assert 'title="as of its last answer, ' in row and before.version in row and before.tier in row

    page = viewer.get(reverse("nodes:detail", args=[node.pk])).content.decode()
    assert f"<summary>{short}</summary>" in page
    assert not PYTHON_TEXT.search(visible_text(page))
    assert "Not answering now: tier, version, owner and apps are as of its last answer" in page
    assert before.version in page and before.detail["zelid"] in page
    for app in before.detail.get("apps", []):
        assert app in page
    change = StatusChange.objects.filter(node=node).first()
    assert change.new_state == snap.state and change.reason == short and change.reason_detail
    history = page.split("<h2>Status history</h2>", 1)[1]
    assert f"<summary>{short}</summary>" in history and "Confirmed" in history

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject.endswith(f": {short}") and "\n" not in message.subject
    assert not PYTHON_TEXT.search(message.subject)
    assert "Technical detail: " in message.body and snap.reason_detail in message.body


def test_it_shows_uptime_over_the_watched_time_with_a_timeline(watched, client_as):
    personas, nodes, fleet = watched
    page = client_as("viewer").get(reverse("nodes:detail", args=[nodes[0].pk])).content.decode()
    # Watched for a moment only: the page says so instead of "30 d 100 %".
    assert re.search(r'data-uptime="30 d">100 % over \d+ s watched<', page)
    assert page.count('<svg class="timeline"') == 3 and 'class="tl-confirmed"' in page
    for label in ("24 h", "7 d", "30 d"):
        assert f'data-window="{label}"' in page


def test_it_keeps_facts_only_while_the_node_is_silent(watched):
    """Once it answers again, the facts are its new answer, not the kept ones."""
    personas, nodes, fleet = watched
    fleet.inject(2, "down")
    run_sweep(personas.team.pk)
    kept = NodeSnapshot.objects.get(node=nodes[2])
    assert kept.state == "down" and kept.last_known["version"] and kept.last_known["zelid"]
    assert kept.as_of == kept.last_seen and kept.facts["tier"] == kept.last_known["tier"]
    # The sweep's own columns say nothing was answered: app sync and /metrics must not take the
    # kept apps for running ones.
    assert kept.version == "" and kept.apps_running is None and kept.detail == {}
    fleet.clear(2)
    run_sweep(personas.team.pk)
    back = NodeSnapshot.objects.get(node=nodes[2])
    assert back.state == "confirmed" and back.reason == "" and back.reason_detail == ""
    assert back.as_of is None and back.facts["version"] == back.version != ""
