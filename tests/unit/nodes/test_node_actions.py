"""Writes on one node and on the fleet: labels, maintenance claims, sweep now (each an action
with its audit row)."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from apps.accounts.models import AuditEntry, Membership
from apps.nodes import actions
from apps.nodes.models import MaintenanceClaim, Node, NodeSnapshot


@pytest.fixture
def node(personas):
    node = Node.objects.create(team=personas.team, name="alpha", address="93.184.216.7:16127",
                               base_url="http://93.184.216.7:16127")
    NodeSnapshot.objects.create(node=node, team=personas.team)
    Node.objects.create(team=personas.team, name="beta", address="93.184.216.8:16127",
                        base_url="http://93.184.216.8:16127")
    return node


def membership(personas, role):
    return Membership.objects.get(user=personas.users[role], team=personas.team)


def test_it_shows_a_duplicate_name_as_a_form_error(personas, client_as, node):
    """It used to redirect with the database's raw "UNIQUE constraint failed" text."""
    response = client_as("manager").post(reverse("nodes:edit", args=[node.pk]), {"name": "beta"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Another node of this team is already called “beta”." in html
    assert "UNIQUE" not in html and "constraint" not in html
    node.refresh_from_db()
    assert node.name == "alpha"


def test_it_saves_a_new_name(personas, client_as, node):
    response = client_as("manager").post(reverse("nodes:edit", args=[node.pk]), {"name": "gamma"})
    assert response.status_code == 302
    node.refresh_from_db()
    assert node.name == "gamma"
    assert AuditEntry.objects.filter(action="node.update", target_id=str(node.pk)).exists()


@pytest.mark.parametrize("name", ["nodes:detail", "nodes:edit", "nodes:claim"])
def test_it_answers_404_for_an_id_beyond_the_database_range(personas, client_as, name):
    client = client_as("manager")
    url = reverse(name, args=[1]).replace("/1/", f"/{10**30}/")
    response = client.post(url) if name != "nodes:detail" else client.get(url)
    assert response.status_code == 404


def test_it_lets_only_the_holder_or_a_manager_release_a_claim(personas, client_as, node):
    actions.claim_node(membership=membership(personas, "manager"), node=node, minutes=30)
    with pytest.raises(PermissionDenied, match="only they or a manager"):
        actions.release_claim(membership=membership(personas, "operator"), node=node)
    assert MaintenanceClaim.active().filter(node=node).count() == 1
    assert AuditEntry.objects.filter(action="node.release", outcome="denied", actor_name="operator").exists()
    # Through the page: refused with a message, the claim stays.
    response = client_as("operator").post(reverse("nodes:release", args=[node.pk]), follow=True)
    assert "only they or a manager can release it" in response.content.decode()
    assert MaintenanceClaim.active().filter(node=node).count() == 1
    # The holder may, and so may a manager for somebody else's claim.
    operator_claim_node = Node.objects.get(name="beta")
    actions.claim_node(membership=membership(personas, "operator"), node=operator_claim_node, minutes=30)
    assert actions.release_claim(membership=membership(personas, "manager"), node=operator_claim_node) == 1
    assert actions.release_claim(membership=membership(personas, "manager"), node=node) == 1
    assert not MaintenanceClaim.active().exists()


def test_it_queues_a_sweep_after_recording_it(personas, client_as, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_as("operator").post(reverse("nodes:sweep_now"))
    assert response.status_code == 302
    assert len(callbacks) == 1  # the enqueue waits for the commit of the audit row
    entry = AuditEntry.objects.get(action="sweep.now")
    assert (entry.actor_name, entry.team) == ("operator", personas.team)


def test_it_refuses_sweep_now_to_a_viewer_in_the_action_itself(personas):
    with pytest.raises(PermissionDenied):
        actions.sweep_now(membership=membership(personas, "viewer"))
    assert not AuditEntry.objects.filter(action="sweep.now").exists()
