"""The fleet's history for the pictures: states walked back through status changes, versions
from FleetDay rows, and the charts drawn from them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.network import history, pictures
from apps.network.models import FleetDay
from apps.network.tasks import refresh_task
from apps.nodes.models import Node, NodeSnapshot, StatusChange

pytestmark = pytest.mark.django_db


def fleet(team, states):
    nodes = []
    for index, state in enumerate(states):
        node = Node.objects.create(team=team, name=f"n{index}", address=f"203.0.113.{index + 1}",
                                   base_url=f"http://203.0.113.{index + 1}:16127")
        NodeSnapshot.objects.update_or_create(node=node, defaults={"team": team, "state": state,
                                                                   "version": "6.4.0" if index else "6.3.1"})
        nodes.append(node)
    return nodes


def test_it_walks_the_states_back_through_the_changes(personas):
    team, now = personas.team, timezone.now()
    nodes = fleet(team, ["confirmed", "down", "confirmed"])
    StatusChange.objects.create(node=nodes[1], team=team, old_state="confirmed", new_state="down",
                                at=now - timedelta(hours=2))
    points = history.state_series(team, now=now)
    assert points[0][0] == now - history.SPAN
    assert points[0][1] == {"confirmed": 3, "down": 0}  # before the change: all confirmed
    assert points[-1][1] == {"confirmed": 2, "down": 1}
    svg = str(pictures.state_chart(points, now=now))
    assert "<svg" in svg and "<path" in svg and "no samples yet" not in svg


def test_it_draws_versions_from_recorded_days(personas):
    team, now = personas.team, timezone.now()
    fleet(team, ["confirmed", "confirmed"])
    FleetDay.objects.create(team=team, day=(now - timedelta(days=1)).date(), versions={"6.3.1": 2})
    points = history.version_series(team, history.snapshot_versions(team), now=now)
    assert [p[1] for p in points] == [{"6.3.1": 2}, {"6.3.1": 1, "6.4.0": 1}]
    svg = str(pictures.version_chart(points, now=now))
    assert "on 6.4.0" in svg and "<path" in svg


def test_it_records_each_teams_day_in_the_beat_task(personas):
    fleet(personas.team, ["confirmed", "down"])
    refresh_task()  # the stats URL of the tests is refused at once: the row is stale, the days kept
    row = FleetDay.objects.get(team=personas.team)
    assert row.states == {"confirmed": 1, "down": 1} and row.versions == {"6.3.1": 1, "6.4.0": 1}
    refresh_task()
    assert FleetDay.objects.filter(team=personas.team).count() == 1


def test_it_draws_rewards_only_once_some_are_recorded(personas):
    from django.apps import apps as django_apps

    from apps.network import rewards

    assert rewards.rewards_chart(personas.team) is None  # "no rewards recorded yet"
    if not django_apps.is_installed("apps.earnings"):
        return
    from apps.earnings.models import Reward

    node = fleet(personas.team, ["confirmed"])[0]
    Reward.objects.create(team=personas.team, node=node, txid="a" * 64, vout=0, height=1,
                          satoshis=150_000_000, paid_at=timezone.now() - timedelta(days=1))
    assert "<svg" in str(rewards.rewards_chart(personas.team))
