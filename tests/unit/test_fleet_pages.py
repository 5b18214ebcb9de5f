"""Fleet pages: registration with per-line errors, flat query counts, the 304 poll, metrics."""
from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.models import Node, NodeSnapshot, StatusChange, Sweep

# Session, user, membership, team list (switcher), then the fleet: page + count + counts +
# fingerprint (sweep) + groups. Pinned so a change that adds per-row queries fails here.
PINNED_PAGE_QUERIES = 9
PINNED_POLL_QUERIES = 8  # with a search, so the page count is a query of its own


def add_nodes(team, count, start=0):
    nodes = Node.objects.bulk_create(
        Node(team=team, name=f"node-{i:05d}", address=f"198.51.100.{i % 250}:{16127 + 10 * (i // 250 % 7)}/{i}",
             base_url=f"http://198.51.100.{i % 250}:16127") for i in range(start, start + count))
    NodeSnapshot.objects.bulk_create(
        NodeSnapshot(node=n, team=team, state="confirmed" if i % 5 else "down", version="8.17.0",
                     tier="NIMBUS", height=2_200_000, height_lag=i % 3, maintenance_blocks=300,
                     apps_running=2, checked_at=timezone.now(), last_seen=timezone.now())
        for i, n in enumerate(nodes))
    return nodes


def test_pasted_list_with_a_bad_line_imports_nothing(personas, client_as):
    client = client_as("manager")
    text = "203.0.113.7\n203.0.113.8:16137 second\nnot an address!\n203.0.113.9:8080\n203.0.113.7"
    response = client.post(reverse("nodes:register"), {"nodes": text})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported" in html
    assert 'data-line="3"' in html and 'data-line="4"' in html and 'data-line="5"' in html
    assert "Port 8080 is not a FluxOS API port" in html
    assert "appears twice (also line 1)" in html
    assert Node.objects.count() == 0


def test_good_list_registers_and_schedules_sweeps(personas, client_as):
    client = client_as("manager")
    response = client.post(reverse("nodes:register"), {"nodes": "203.0.113.7\n203.0.113.8:16137 second"})
    assert response.status_code == 302
    assert sorted(Node.objects.values_list("name", "address")) == [
        ("203.0.113.7:16127", "203.0.113.7:16127"), ("second", "203.0.113.8:16137")]
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name=f"sweep team {personas.team.pk}")
    assert (task.task, task.interval.every) == ("nodes.sweep_team", 60)
    # A duplicate is refused with a clear message.
    html = client.post(reverse("nodes:register"), {"nodes": "203.0.113.7:16127"}).content.decode()
    assert "203.0.113.7:16127 is already registered in this team." in html


def test_interval_is_editable(personas, client_as):
    client_as("manager").post(reverse("nodes:interval_set"), {"seconds": 300})
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.get(name=f"sweep team {personas.team.pk}").interval.every == 300


def _queries(client, url, params=None):
    client.get(url, params or {})  # warm up: the first request also stores the team in the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured), response


def test_fleet_page_and_poll_query_counts_are_flat(personas, client_as):
    client = client_as("viewer")
    add_nodes(personas.team, 3)
    small_page, _ = _queries(client, reverse("nodes:fleet"))
    small_poll, _ = _queries(client, reverse("nodes:poll"), {"q": "node-00"})
    add_nodes(personas.team, 400, start=3)
    large_page, response = _queries(client, reverse("nodes:fleet"), {"sort": "-lag", "state": "confirmed"})
    large_poll, _ = _queries(client, reverse("nodes:poll"), {"q": "node-00"})
    assert small_page == large_page
    assert small_poll == large_poll
    assert (large_page, large_poll) == (PINNED_PAGE_QUERIES, PINNED_POLL_QUERIES)
    html = response.content.decode()
    assert 'data-count="down">81<' in html  # counts cover the whole fleet, not the page
    assert html.count("<tr data-node=") == 50  # one page


def test_poll_answers_304_when_nothing_changed(personas, client_as):
    client = client_as("viewer")
    add_nodes(personas.team, 5)
    first = client.get(reverse("nodes:poll"))
    fingerprint = first.content.decode().split('data-fingerprint="')[1].split('"')[0]
    assert client.get(reverse("nodes:poll"), {"fp": fingerprint}).status_code == 304
    # What a sweep does: write the snapshots, then finish.
    NodeSnapshot.objects.filter(team=personas.team).update(state="down", checked_at=timezone.now())
    Sweep.objects.create(team=personas.team, status="done", finished_at=timezone.now())
    changed = client.get(reverse("nodes:poll"), {"fp": fingerprint})
    assert changed.status_code == 200
    assert 'data-count="down">5<' in changed.content.decode()


def test_search_filter_sort(personas, client_as):
    client = client_as("viewer")
    add_nodes(personas.team, 30)
    html = client.get(reverse("nodes:fleet"), {"q": "node-0001", "state": "confirmed"}).content.decode()
    names = [chunk.split("<")[0] for chunk in html.split('">node-')[1:]]
    assert names == [f"{i:05d}" for i in range(11, 20) if i % 5]  # node-00010..00019, minus downs (i%5==0)


def test_metrics_needs_the_team_token(personas, client, client_as):
    add_nodes(personas.team, 5)
    assert client.get("/metrics").status_code == 401
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    token = actions.rotate_metrics_token(membership=manager)
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    assert 'fluxpanel_nodes{state="confirmed"} 4' in body
    assert 'fluxpanel_nodes{state="down"} 1' in body
    assert body.count("fluxpanel_node_up{") == 5
    # Team B's token sees team B only.
    outsider = Membership.objects.get(user=personas.outsider)
    other = actions.rotate_metrics_token(membership=outsider)
    assert 'fluxpanel_nodes{state="confirmed"} 0' in client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {other}").content.decode()


def test_uptime_from_status_changes(personas):
    from datetime import timedelta

    from apps.nodes.history import uptime

    node = add_nodes(personas.team, 1)[0]
    now = timezone.now()
    for hours_ago, old, new in [(30, "unknown", "confirmed"), (12, "confirmed", "down"), (6, "down", "confirmed")]:
        StatusChange.objects.create(node=node, team=personas.team, old_state=old, new_state=new,
                                    at=now - timedelta(hours=hours_ago))
    result = uptime(node, now=now)
    assert result["24 h"] == 75.0  # down 6 of the last 24 hours
    assert result["7 d"] == round(100 * 24 / 30, 2)  # observed for 30 h, down 6
