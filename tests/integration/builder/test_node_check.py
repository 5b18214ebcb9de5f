"""Check on a node before signing: FluxOS's verify routes on a simulated node over real HTTP,
its formatted spec or its error text, a hung node bounded, only recent team nodes offered."""
from __future__ import annotations

import copy
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership
from apps.builder.actions import create_draft, draft_from_app
from apps.builder.node_check import check_on_node, node_choices
from apps.deployments.models import TeamApp
from apps.nodes.models import Node, NodeSnapshot
from fluxpanel.fluxos.specs import format_spec

OWNER = "1P3L2Fgx2M4Mp54chgrLZM5eAUPXhLTbnd"


def spec(name: str) -> dict:
    return {"version": 8, "name": name, "description": "checked on a node", "owner": OWNER,
            "compose": [{"name": "web", "description": "", "repotag": "nginx:1.25.3", "ports": [36001],
                         "domains": [""], "environmentParameters": [], "commands": [], "containerPorts": [80],
                         "containerData": "/data", "cpu": 0.5, "ram": 500, "hdd": 5, "repoauth": ""}],
            "instances": 3, "contacts": [], "geolocation": [], "expire": 88000, "nodes": [],
            "staticip": False, "enterprise": ""}


@pytest.fixture
def setup(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True  # the simulated nodes listen on loopback
    settings.BUILDER_NODE_CHECK_SECONDS = 1.5
    now = timezone.now()
    nodes = []
    for index, seen in ((0, now), (1, now), (2, now - timedelta(hours=3))):
        node = Node.objects.create(team=personas.team, name=f"n{index}", address=f"127.0.0.1:{16127 + index}",
                                   base_url=fleet.url(index))
        NodeSnapshot.objects.create(node=node, team=personas.team, state="confirmed", last_seen=seen)
        nodes.append(node)
    membership = Membership.objects.get(user=personas.operator, team=personas.team)
    return membership, nodes


def test_it_offers_only_nodes_that_answered_lately(setup, personas):
    _, nodes = setup
    other = Node.objects.create(team=personas.other_team, name="theirs", address="127.0.0.1:1", base_url="http://x")
    NodeSnapshot.objects.create(node=other, team=personas.other_team, state="confirmed", last_seen=timezone.now())
    assert {n.pk for n in node_choices(personas.team)} == {nodes[0].pk, nodes[1].pk}


def test_it_shows_the_node_formatted_spec_for_a_new_app(setup):
    membership, nodes = setup
    draft = create_draft(membership=membership, spec=spec("freshname1"))
    result = check_on_node(draft, nodes[0])
    assert result.ok and result.error == "" and result.route == "verifyappregistrationspecifications"
    assert '"name": "freshname1"' in result.formatted and result.same_as_panel is True


def test_it_shows_fluxos_error_text(setup, fleet):
    membership, nodes = setup
    taken = fleet.app_names()[0]
    draft = create_draft(membership=membership, spec=spec(taken))
    result = check_on_node(draft, nodes[0])
    assert not result.ok
    assert result.error == (f"Flux App {taken} already registered. Flux App has to be registered under "
                            "different name.")


def test_it_uses_the_update_route_for_an_update(setup, personas, fleet):
    membership, nodes = setup
    live = format_spec(spec("notonnetwork"))
    app = TeamApp.objects.create(team=personas.team, name="notonnetwork", owner=OWNER, spec=live,
                                 spec_version=8, message_height=2_100_000, expire=88000,
                                 expiry_height=2_188_000, expires_at=timezone.now() + timedelta(days=20))
    draft = draft_from_app(membership=membership, app=app, kind="update")
    result = check_on_node(draft, nodes[0])
    assert result.route == "verifyappupdatespecifications"
    assert result.error == "Flux App notonnetwork does not exist and cannot be updated"
    name = fleet.app_names()[0]
    app.spec = dict(copy.deepcopy(live), name=name)
    app.name = name
    app.save()
    draft = draft_from_app(membership=membership, app=app, kind="renew", months=1)
    result = check_on_node(draft, nodes[0])
    assert result.ok and f'"name": "{name}"' in result.formatted


def test_it_bounds_a_hung_node(setup, fleet):
    membership, nodes = setup
    fleet.inject(1, "hang")
    draft = create_draft(membership=membership, spec=spec("hungcheck"))
    started = time.monotonic()
    result = check_on_node(draft, nodes[1])
    assert time.monotonic() - started < 6
    assert not result.ok and result.error == "no answer after 1.5 s"


def test_it_checks_from_the_build_tab(setup, client_as):
    membership, nodes = setup
    draft = create_draft(membership=membership, spec=spec("viewcheck"))
    page = client_as("operator").get(reverse("builder:draft", args=[draft.pk]), {"tab": "build"}).content.decode()
    assert 'data-role="node-check-button"' in page and ">n0 (" in page and ">n2 (" not in page
    url = reverse("builder:node_check", args=[draft.pk])
    response = client_as("operator").post(url, {"node": nodes[0].pk}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and 'data-role="node-check-ok"' in text and "viewcheck" in text
    # Without JavaScript the whole draft page comes back with the result in its Review part.
    text = client_as("operator").post(url, {"node": nodes[2].pk}).content.decode()
    assert "Choose one of the team&#x27;s nodes that answered lately." in text and 'data-role="review"' in text


@pytest.mark.parametrize("fault,params", [("huge", {"mb": 2}), ("malformed", {}), ("http500", {})])
def test_it_bounds_and_refuses_a_hostile_answer(setup, fleet, fault, params):
    membership, nodes = setup
    fleet.inject(0, fault, **params)
    draft = create_draft(membership=membership, spec=spec("hostilecheck"))
    result = check_on_node(draft, nodes[0])
    assert not result.ok and result.formatted == "" and 0 < len(result.error) <= 500
