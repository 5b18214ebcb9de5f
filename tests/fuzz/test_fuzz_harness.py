"""The fuzz itself can fail: it sees a 500 and names its cause, it reaches every URL, and it finds
the parameters the views read (a harness that silently fuzzes nothing would pass for ever)."""
from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.urls import path

from tests.fuzz import surface
from tests.fuzz import test_no_server_errors as request_fuzz
from tests.fuzz.sender import Requester

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]


def broken_view(request):
    return HttpResponse(str(int(request.GET.get("n", "0"))))  # int("²") raises: a 500


urlpatterns = [path("broken/", broken_view, name="broken")]


def test_it_records_a_server_error_with_the_raising_line(world, settings):
    settings.ROOT_URLCONF = __name__
    route = surface.Route(name="broken", template="broken/", module=__name__, view=broken_view)
    with Requester(world, route) as requester:
        assert requester.send("manager", "GET", "/broken/", "n=7") == 200
        assert requester.send("manager", "GET", "/broken/", "n=%C2%B2") == 500
    [failure] = requester.failures.values()
    assert failure.exc_type == "ValueError"
    assert failure.where.startswith("tests/fuzz/test_fuzz_harness.py:")
    assert "n=%C2%B2" in failure.repro and "invalid literal" in failure.trace


def test_it_fuzzes_every_url_of_the_panel():
    names = {route.name for route in request_fuzz.ROUTES}
    assert {"home", "nodes:fleet", "accounts:switch_team", "wallets:challenge_callback"} <= names
    assert not any(name.startswith("admin:") for name in names)


def test_it_finds_the_parameters_the_views_read(world):
    discovery = request_fuzz.discover(world)
    own = {}
    for route in request_fuzz.ROUTES:
        if route.name in ("nodes:fleet", "nodes:alert_create", "accounts:switch_team"):
            own[route.name] = set(request_fuzz.shape_of(route, world, discovery.found[route.name]).own)
    assert {"q", "group", "sort"} <= own["nodes:fleet"]  # the filter form and the sort links
    assert {"kind", "threshold", "email"} <= own["nodes:alert_create"]  # AlertRuleForm's fields
    assert {"team", "next"} <= own["accounts:switch_team"]  # request.POST.get(...) in the view
