"""Explorer and payments (issue 17 item 2): a node's payment figures through its own explorer,
kept when a later answer is garbage (marked stale, with the reason), and the team's monthly
totals against the nodes' monthly-cost labels."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from apps.earnings.models import NodeEarnings, Reward
from apps.nodes.models import Node, NodeSnapshot
from tests.sim.fluxnode_explorer import REWARDS_KEPT, reward_outputs

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "live-panel"}


@pytest.fixture
def nodes(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    made = []
    for index, cost in ((1, Decimal("12.50")), (2, Decimal("30.00")), (3, None)):
        url = fleet.urls[index]
        node = Node.objects.create(team=personas.team, name=f"n{index}", address=url.split("://", 1)[1],
                                   base_url=url, monthly_cost=cost)
        NodeSnapshot.objects.create(node=node, team=personas.team)
        made.append(node)
    return made


def payments_tab(client, node) -> str:
    response = client.get(reverse("nodes:detail", args=[node.pk]), {"section": "payments"}, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_payment_addresss_balance_and_last_payment(personas, client_as, fleet, nodes):
    sim = fleet.node(1)
    html = payments_tab(client_as("viewer"), nodes[0])
    expected = sum(o["satoshis"] for o in reward_outputs(sim))
    assert f'data-field="payment_address">{sim.id.payment_address}<' in html
    assert f'data-field="balance">{expected / 1e8:,.2f} FLUX' in html
    last_paid = sim.fluxnode_status()["last_paid_height"]
    assert f'data-field="last_paid">block {last_paid}, ' in html
    assert '<svg class="bars"' in html and "data-stale" not in html
    earnings = NodeEarnings.objects.get(node=nodes[0])
    assert earnings.balance_sat == expected and earnings.last_paid_height == last_paid
    assert Reward.objects.filter(node=nodes[0]).count() == REWARDS_KEPT
    # Read again: the same outputs are not counted twice.
    payments_tab(client_as("viewer"), nodes[0])
    assert Reward.objects.filter(node=nodes[0]).count() == REWARDS_KEPT


def test_it_keeps_the_previous_figures_when_the_explorer_answers_garbage(personas, client_as, fleet, nodes):
    payments_tab(client_as("viewer"), nodes[0])
    before = NodeEarnings.objects.get(node=nodes[0])
    fleet.inject(1, "explorer_garbage")
    html = payments_tab(client_as("viewer"), nodes[0])
    assert "data-stale" in html and "Figures as of" in html
    assert "not a FluxOS answer" in html or "balance is not a whole number" in html
    assert f'{before.balance_sat / 1e8:,.2f} FLUX' in html  # the old balance is still shown
    after = NodeEarnings.objects.get(node=nodes[0])
    assert after.balance_sat == before.balance_sat and after.stale and after.stale_since is not None
    # The next good answer clears the mark.
    fleet.clear(1)
    assert "data-stale" not in payments_tab(client_as("viewer"), nodes[0])
    assert not NodeEarnings.objects.get(node=nodes[0]).stale


def test_it_keeps_the_figures_of_a_node_that_stopped_answering(personas, client_as, fleet, nodes):
    payments_tab(client_as("viewer"), nodes[1])
    fleet.inject(2, "down")
    html = payments_tab(client_as("viewer"), nodes[1])
    assert "data-stale" in html and 'data-field="balance">' in html
    assert "Retry" in html


def test_it_totals_the_teams_rewards_per_month_against_node_costs(personas, client_as, fleet, nodes):
    for node in nodes:
        payments_tab(client_as("viewer"), node)
    page = client_as("viewer").get(reverse("earnings:totals"))
    html = page.content.decode()
    assert page.status_code == 200
    earned = [Decimal(v) for v in re.findall(r"<td data-earned>([\d.]+) FLUX</td>", html)]
    total = Reward.objects.filter(team=personas.team).aggregate(s=Sum("satoshis"))["s"]
    assert len(earned) == 12 and sum(earned) == pytest.approx(Decimal(total) / 100_000_000, abs=Decimal("0.05"))
    assert "2 of 3 nodes have one: $42.50 a month" in html
    assert html.count("<td>$42.50</td>") == 12
    assert "3 of 3 nodes so far" in html and '<svg class="bars"' in html


def test_it_lists_nodes_whose_figures_are_stale_on_the_totals_page(personas, client_as, fleet, nodes):
    payments_tab(client_as("viewer"), nodes[0])
    fleet.inject(1, "explorer_garbage")
    payments_tab(client_as("viewer"), nodes[0])
    html = client_as("viewer").get(reverse("earnings:totals")).content.decode()
    assert 'data-stale-count="1"' in html
    assert f'href="{reverse("nodes:detail", args=[nodes[0].pk])}?section=payments">n1</a>' in html


def test_it_does_not_count_another_teams_rewards(personas, client_as, fleet, nodes):
    payments_tab(client_as("viewer"), nodes[0])
    Reward.objects.filter(node=nodes[0]).update(team=personas.other_team)
    html = client_as("viewer").get(reverse("earnings:totals")).content.decode()
    assert all(Decimal(v) == 0 for v in re.findall(r"<td data-earned>([\d.]+) FLUX</td>", html))


def test_it_refreshes_the_nodes_nobody_looked_at_on_beat(personas, fleet, nodes, settings):
    from apps.earnings import tasks

    fleet.inject(2, "down")  # n2 does not answer: marked stale, the others are read
    assert tasks.refresh_due() == 3
    kept = {e.node.name: e for e in NodeEarnings.objects.select_related("node")}
    assert kept["n1"].refreshed_at is not None and kept["n1"].payment_address and not kept["n1"].stale_reason
    assert kept["n2"].refreshed_at is None and kept["n2"].stale_reason
    assert Reward.objects.filter(node=nodes[0]).exists()
    # Fresh figures are not read again before EARNINGS_REFRESH_S; the failed node still is.
    assert [n.name for n in tasks.due_nodes(timezone.now())] == ["n2"]
    settings.EARNINGS_REFRESH_S = 300
    later = timezone.now() + timedelta(seconds=301)
    assert {n.name for n in tasks.due_nodes(later)} == {"n1", "n2", "n3"}
