"""The Apps page: rows, filters, sort, pages, its own poll (304 when unchanged), flat query counts."""
from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.deployments.models import AppSync, TeamApp
from tests.unit.deployments.factories import OWNER, add_apps

POLL_HEADERS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "apps-live"}
URL = "deployments:list"


def page(client, params=None, **headers):
    response = client.get(reverse(URL), params or {}, **headers)
    assert response.status_code in (200, 304)
    return response


def html(client, params=None, **headers):
    return page(client, params, **headers).content.decode()


def _queries(client, params=None, **headers):
    client.get(reverse(URL), params or {}, **headers)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(URL), params or {}, **headers)
    assert response.status_code == 200
    return len(captured)


def test_it_renders_the_team_apps_with_their_columns(personas, client_as):
    add_apps(personas.team, 4)
    TeamApp.objects.create(team=personas.team, name="gone", dropped=True)
    add_apps(personas.other_team, 2, start=100)
    stale = TeamApp.objects.get(team=personas.team, name="app00001")
    stale.stale, stale.stale_reason = True, "source timed out after 5 s"
    stale.save()
    text = html(client_as("viewer"))
    assert text.count("<tr data-app=") == 4
    assert "gone" not in text and "app00100" not in text
    assert f'title="{OWNER}"' in text and "1CbErt…rgc3uC" in text  # shortened, full in the title
    assert "1 / 3" in text and 'data-status="degraded"' in text
    assert "source timed out after 5 s" in text
    assert 'class="expiring state-down"' in text  # app00000 expires in 1 h
    assert "$0.50" in text


def test_it_filters_searches_sorts_and_pages(personas, client_as):
    client = client_as("viewer")
    add_apps(personas.team, 120)
    TeamApp.objects.filter(team=personas.team, name="app00007").update(owner="1OtherOwnerAddressXYZ")
    first = html(client)
    assert first.count("<tr data-app=") == 50 and "Page 1 of 3" in first
    assert 'data-count="total">120<' in first and 'data-count="healthy">30<' in first
    third = html(client, {"page": "3"})
    assert third.count("<tr data-app=") == 20
    assert html(client, {"q": "app0001"}).count("<tr data-app=") == 10
    assert html(client, {"q": "otherowner"}).count("<tr data-app=") == 1
    assert html(client, {"owner": "1OtherOwnerAddressXYZ"}).count("<tr data-app=") == 1
    degraded = html(client, {"status": "degraded"})
    assert degraded.count('data-status="degraded"') == 30 and 'data-status="healthy"' not in degraded
    # Counts respect the other filters: the 7-day window holds apps expiring in 0..6 days.
    week = html(client, {"expiring": "7"})
    assert week.count("<tr data-app=") == 14  # i % 60 < 7 for 0..119: 7 + 7
    assert 'data-count="total">14<' in week
    priced = html(client, {"sort": "-price"})
    assert priced.index("$49.50") < priced.index("$48.50")
    by_name = html(client, {"sort": "-name"})
    assert by_name.index("app00119") < by_name.index("app00118")
    assert html(client, {"sort": "expiry"}).count("<tr data-app=") == 50
    assert html(client, {"sort": "instances", "status": "bogus", "page": "x" * 50}).count("<tr data-app=") == 50


def test_it_shows_the_last_sync_and_a_failed_sync_banner(personas, client_as):
    client = client_as("viewer")
    add_apps(personas.team, 1)
    AppSync.objects.create(team=personas.team, status="done", finished_at=timezone.now() - timedelta(hours=1),
                           source="gateway https://api.example")
    assert "gateway https://api.example" in html(client)
    AppSync.objects.create(team=personas.team, status="failed", finished_at=timezone.now(),
                           reason="node n1 timed out after 5 s")
    text = html(client)
    assert "The network could not be asked: node n1 timed out after 5 s; showing data from" in text


def test_it_answers_its_own_poll_with_304_when_nothing_changed(personas, client_as):
    client = client_as("viewer")
    add_apps(personas.team, 3)
    text = html(client)
    fingerprint = text.split('data-fingerprint="')[1].split('"')[0]
    assert f'hx-get="{reverse(URL)}?sort=name&amp;page=1&amp;fp={fingerprint}"' in text
    first = page(client, **POLL_HEADERS)
    assert first.status_code == 200 and "<html" not in first.content.decode()
    assert page(client, {"fp": fingerprint}, **POLL_HEADERS).status_code == 304
    assert "<html" in html(client, {"fp": fingerprint})
    TeamApp.objects.filter(team=personas.team).update(status="down")
    AppSync.objects.create(team=personas.team, status="done", finished_at=timezone.now())
    changed = page(client, {"fp": fingerprint}, **POLL_HEADERS)
    assert changed.status_code == 200 and 'data-count="down">3<' in changed.content.decode()


def test_it_keeps_the_query_count_flat(personas, client_as):
    client = client_as("viewer")
    add_apps(personas.team, 5, instances=2)
    AppSync.objects.create(team=personas.team, status="done", finished_at=timezone.now())
    small_page = _queries(client, {"sort": "-expiry"})
    small_poll = _queries(client, {"q": "app"}, **POLL_HEADERS)
    add_apps(personas.team, 55, start=5, instances=2)
    assert _queries(client, {"sort": "-expiry"}) == small_page
    assert _queries(client, {"q": "app"}, **POLL_HEADERS) == small_poll


def test_it_shows_buttons_only_to_roles_that_may_use_them(personas, client_as):
    viewer = html(client_as("viewer"))
    assert reverse("deployments:sync_now") not in viewer and reverse("deployments:app_add") not in viewer
    assert reverse("deployments:settings") not in viewer
    operator = html(client_as("operator"))
    assert reverse("deployments:sync_now") in operator and reverse("deployments:app_add") not in operator
    manager = html(client_as("manager"))
    assert reverse("deployments:app_add") in manager and reverse("deployments:settings") in manager
    assert 'name="name"' in manager


def test_it_explains_how_apps_appear_when_there_are_none(personas, client_as):
    text = html(client_as("viewer"))
    assert "No apps yet" in text and reverse("wallets:home") in text


def test_it_lists_dropped_apps_only_when_asked(personas, client_as):
    add_apps(personas.team, 3)
    TeamApp.objects.create(team=personas.team, name="gone", name_key="gone", dropped=True)
    text = html(client_as("viewer"), {"dropped": "1"})
    assert text.count("<tr data-app=") == 1 and ">gone<" in text
    assert 'value="1" selected' in text
    text = html(client_as("viewer"), {"dropped": "yes"})  # anything else: the team's apps
    assert text.count("<tr data-app=") == 3 and ">gone<" not in text
