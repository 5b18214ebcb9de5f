"""Registering nodes: per-line errors, public addresses only (issue 10 F4), names as stored."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.models import Node

# Public addresses that are never called by these tests (no sweep runs).
PUBLIC_A, PUBLIC_B, PUBLIC_C = "93.184.216.7", "93.184.216.8", "93.184.216.9"


def test_it_imports_nothing_from_a_pasted_list_with_a_bad_line(personas, client_as):
    client = client_as("manager")
    text = f"{PUBLIC_A}\n{PUBLIC_B}:16137 second\nnot an address!\n{PUBLIC_C}:8080\n{PUBLIC_A}"
    response = client.post(reverse("nodes:register"), {"nodes": text})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported" in html
    assert 'data-line="3"' in html and 'data-line="4"' in html and 'data-line="5"' in html
    assert "Port 8080 is not a FluxOS API port" in html
    assert "appears twice (also line 1)" in html
    assert Node.objects.count() == 0


def test_it_registers_a_good_list_and_schedules_sweeps(personas, client_as):
    client = client_as("manager")
    response = client.post(reverse("nodes:register"), {"nodes": f"{PUBLIC_A}\n{PUBLIC_B}:16137 second"})
    assert response.status_code == 302
    assert sorted(Node.objects.values_list("name", "address")) == [
        (f"{PUBLIC_A}:16127", f"{PUBLIC_A}:16127"), ("second", f"{PUBLIC_B}:16137")]
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name=f"sweep team {personas.team.pk}")
    assert (task.task, task.interval.every) == ("nodes.sweep_team", 60)
    html = client.post(reverse("nodes:register"), {"nodes": f"{PUBLIC_A}:16127"}).content.decode()
    assert f"{PUBLIC_A}:16127 is already registered in this team." in html


@pytest.mark.parametrize("address,reason", [
    ("10.0.0.5", "private"),
    ("192.168.1.10:16137", "private"),
    ("127.0.0.1", "loopback"),
    ("169.254.169.254", "link-local"),
    ("224.0.0.1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("[::1]:16127", "loopback"),
    ("100.64.3.4", "not a public address"),
    ("metadata.google.internal", "local or metadata name"),
])
def test_it_refuses_addresses_that_are_not_public(personas, client_as, settings, address, reason):
    settings.ALLOW_ANY_NODE_URL = False
    response = client_as("manager").post(reverse("nodes:register"), {"nodes": f"{PUBLIC_A}\n{address}"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-line="2"' in html and reason in html
    assert Node.objects.count() == 0


def test_it_refuses_private_addresses_in_an_owner_import_too(personas):
    """The owner import goes through the same registration (source="owner")."""
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    with pytest.raises(actions.ImportRefused) as refused:
        actions.register_nodes(membership=manager, text=f"{PUBLIC_A}\n10.1.2.3", source="owner")
    assert [e.line_number for e in refused.value.errors] == [2]
    assert Node.objects.count() == 0


def test_it_accepts_any_address_in_development_mode(personas, settings):
    settings.ALLOW_ANY_NODE_URL = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    created = actions.register_nodes(membership=manager, text="10.0.0.5\n127.0.0.1:16137")
    assert sorted(n.address for n in created) == ["10.0.0.5:16127", "127.0.0.1:16137"]


def test_it_reports_two_long_names_equal_in_their_first_100_characters(personas, client_as):
    """Names are stored cut to 100 characters: compared cut too, or the second one would break the
    unique constraint (a server error)."""
    long = "x" * 100
    text = f"{PUBLIC_A} {long}-first\n{PUBLIC_B} {long}-second"
    response = client_as("manager").post(reverse("nodes:register"), {"nodes": text})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-line="2"' in html and "is already used" in html
    assert Node.objects.count() == 0


def test_it_skips_the_private_addresses_a_source_node_lists_for_an_owner(settings):
    """A (possibly hostile) source node's list is filtered like a pasted one, with the reasons."""
    from apps.nodes.views import _usable_addresses

    settings.ALLOW_ANY_NODE_URL = False
    usable, refused = _usable_addresses([PUBLIC_A, "10.0.0.1", "169.254.169.254:16127"])
    assert usable == [(PUBLIC_A, f"{PUBLIC_A}:16127")]
    assert [r.split(":")[0] for r in refused] == ["10.0.0.1", "169.254.169.254"]
