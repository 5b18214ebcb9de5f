"""The fleet page: flat query counts, its own poll (htmx, 304 when unchanged), filters, metrics."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.models import Node, NodeSnapshot, StatusChange, Sweep
from tests import query_budget


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


# What htmx sends when the fleet page's live part polls (django-htmx reads these headers).
POLL_HEADERS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "fleet-live"}


def _queries(client, url, params=None, **headers):
    client.get(url, params or {}, **headers)  # warm up: the first request also stores the team in the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {}, **headers)
    assert response.status_code == 200
    return len(captured), response


def poll(client, params=None):
    return client.get(reverse("nodes:fleet"), params or {}, **POLL_HEADERS)


def test_it_keeps_the_page_and_poll_query_counts_flat(personas, client_as):
    client = client_as("viewer")
    add_nodes(personas.team, 3)
    small_page, _ = _queries(client, reverse("nodes:fleet"))
    small_poll, _ = _queries(client, reverse("nodes:fleet"), {"q": "node-00"}, **POLL_HEADERS)
    add_nodes(personas.team, 400, start=3)
    large_page, response = _queries(client, reverse("nodes:fleet"), {"sort": "-lag", "state": "confirmed"})
    large_poll, _ = _queries(client, reverse("nodes:fleet"), {"q": "node-00"}, **POLL_HEADERS)
    assert small_page == large_page
    assert small_poll == large_poll
    # Session, user, membership, team list (switcher), then the fleet: page + count + counts +
    # fingerprint (sweep) + groups; the poll with a search has its page count as a query of its own.
    query_budget.check_count("nodes:fleet sorted-filtered", large_page)
    query_budget.check_count("nodes:fleet poll-searched", large_poll)
    html = response.content.decode()
    assert 'data-count="down">81<' in html  # counts cover the whole fleet, not the page
    assert html.count("<tr data-node=") == 50  # one page


def test_it_answers_its_own_poll_with_304_when_nothing_changed(personas, client_as):
    client = client_as("viewer")
    add_nodes(personas.team, 5)
    page = client.get(reverse("nodes:fleet")).content.decode()
    fingerprint = page.split('data-fingerprint="')[1].split('"')[0]
    # The live part polls the page's own URL (one URL per page).
    assert f'hx-get="{reverse("nodes:fleet")}?sort=name&amp;page=1&amp;fp={fingerprint}"' in page
    first = poll(client)
    assert first.status_code == 200 and "<html" not in first.content.decode()
    assert poll(client, {"fp": fingerprint}).status_code == 304
    # Without htmx the same URL is the whole page, whatever the fingerprint.
    assert "<html" in client.get(reverse("nodes:fleet"), {"fp": fingerprint}).content.decode()
    # What a sweep does: write the snapshots, then finish.
    NodeSnapshot.objects.filter(team=personas.team).update(state="down", checked_at=timezone.now())
    Sweep.objects.create(team=personas.team, status="done", finished_at=timezone.now())
    changed = poll(client, {"fp": fingerprint})
    assert changed.status_code == 200
    assert 'data-count="down">5<' in changed.content.decode()


@pytest.mark.parametrize("group", [str(10**30), "²", "-1", "0", "1e3", "x"])
def test_it_ignores_a_group_filter_that_is_not_an_id(personas, client_as, group):
    """A huge group id overflowed the database's integer (a server error) on the page and its poll."""
    client = client_as("viewer")
    add_nodes(personas.team, 3)
    page = client.get(reverse("nodes:fleet"), {"group": group})
    assert page.status_code == 200
    assert page.content.decode().count("<tr data-node=") == 3
    assert poll(client, {"group": group}).status_code == 200


def test_it_search_filter_sort(personas, client_as):
    client = client_as("viewer")
    add_nodes(personas.team, 30)
    html = client.get(reverse("nodes:fleet"), {"q": "node-0001", "state": "confirmed"}).content.decode()
    names = [chunk.split("<")[0] for chunk in html.split('">node-')[1:]]
    assert names == [f"{i:05d}" for i in range(11, 20) if i % 5]  # node-00010..00019, minus downs (i%5==0)


def test_it_metrics_needs_the_team_token(personas, client, client_as):
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


def test_it_uptime_from_status_changes(personas):
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
