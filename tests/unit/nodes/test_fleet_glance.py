"""Issue 12 item 7 — the fleet's alert state at a glance: the rules that fire now, row marks for a
node behind in height, under a maintenance claim or with its maintenance window closing, and
counts that respect the active filters."""
from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from apps.nodes.models import AlertRule, AlertState, MaintenanceClaim, NodeSnapshot
from tests.unit.nodes.test_fleet_page import add_nodes


def row(html: str, node) -> str:
    return re.search(rf'<tr data-node="{node.pk}">.*?</tr>', html, re.S).group(0)


def test_it_counts_what_the_filters_match(personas, client_as):
    nodes = add_nodes(personas.team, 53)
    html = client_as("viewer").get(reverse("nodes:fleet"), {"q": "node-00007"}).content.decode()
    assert "<strong>1</strong> of 53 nodes match" in html
    assert html.count("<tr data-node=") == 1
    assert 'data-count="confirmed">1<' in html and 'data-count="down">0<' in html
    assert row(html, nodes[7])
    # Unfiltered, the counts are the team's.
    html = client_as("viewer").get(reverse("nodes:fleet")).content.decode()
    assert "<strong>53</strong> nodes" in html and 'data-count="down">11<' in html
    # A state filter on top of a search picks from the search's counts, and the pager agrees.
    html = client_as("viewer").get(reverse("nodes:fleet"), {"q": "node-0001", "state": "down"}).content.decode()
    assert "<strong>10</strong> of 53 nodes match" in html and 'data-count="down">2<' in html
    assert html.count("<tr data-node=") == 2


def test_it_says_which_rules_fire_now(personas, client_as):
    nodes = add_nodes(personas.team, 6)
    html = client_as("viewer").get(reverse("nodes:fleet")).content.decode()
    assert "Firing now" not in html and "No alert rule fires now" not in html  # no rules at all
    down = AlertRule.objects.create(team=personas.team, kind=AlertRule.Kind.NODE_DOWN)
    AlertRule.objects.create(team=personas.team, kind=AlertRule.Kind.HEIGHT_BEHIND, threshold=2)
    html = client_as("viewer").get(reverse("nodes:fleet")).content.decode()
    assert "No alert rule fires now." in html
    AlertState.objects.bulk_create([AlertState(rule=down, node=n, firing=True) for n in nodes[:2]])
    html = client_as("viewer").get(reverse("nodes:fleet")).content.decode()
    glance = re.search(r'<div class="firing-glance".*?</div>', html, re.S).group(0)
    assert 'data-firing="1"' in glance
    assert f"{down} — 2 nodes" in glance and "Block height" not in glance


def test_it_marks_rows_behind_claimed_or_in_their_maintenance_window(personas, client_as):
    nodes = add_nodes(personas.team, 4)
    NodeSnapshot.objects.filter(node=nodes[1]).update(height_lag=12)
    NodeSnapshot.objects.filter(node=nodes[2]).update(maintenance_blocks=20)  # 10 min left
    MaintenanceClaim.objects.create(node=nodes[3], user=personas.operator, until=timezone.now() + timedelta(hours=1))
    MaintenanceClaim.objects.create(node=nodes[0], user=personas.operator, until=timezone.now() - timedelta(hours=1))
    html = client_as("viewer").get(reverse("nodes:fleet")).content.decode()
    assert 'data-mark="behind"' in row(html, nodes[1]) and "12 blocks behind" in row(html, nodes[1])
    assert 'data-mark="window"' in row(html, nodes[2]) and "window 10 min" in row(html, nodes[2])
    assert 'data-mark="claim"' in row(html, nodes[3]) and "operator holds it" in row(html, nodes[3])
    assert "data-mark" not in row(html, nodes[0])  # an expired claim, 300 blocks left, lag 0
    # The height rule's threshold decides what "behind" is.
    AlertRule.objects.create(team=personas.team, kind=AlertRule.Kind.HEIGHT_BEHIND, threshold=20)
    html = client_as("viewer").get(reverse("nodes:fleet")).content.decode()
    assert 'data-mark="behind"' not in row(html, nodes[1])
