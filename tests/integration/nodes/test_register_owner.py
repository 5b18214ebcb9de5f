"""Register every node paid to an owner address, from the node list a registered node provides."""
from django.urls import reverse

from apps.accounts.models import Membership
from apps.nodes import actions
from apps.nodes.addresses import normalise_address
from apps.nodes.models import Node


def test_it_owner_import_registers_the_owners_nodes(personas, fleet, client_as, settings):
    settings.ALLOW_ANY_NODE_URL = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    source = actions.register_nodes(membership=manager, text=fleet.urls[0])[0]
    statuses = [fleet.fleet.node(i).fluxnode_status() for i in range(len(fleet.urls))]
    owner = statuses[3]["payment_address"]
    expected = sorted(normalise_address(s["ip"])[0] for s in statuses if s["payment_address"] == owner)

    client = client_as("manager")
    response = client.post(reverse("nodes:register_owner"), {"owner": owner, "source": source.pk})
    assert response.status_code == 302
    registered = sorted(Node.objects.exclude(pk=source.pk).values_list("address", flat=True))
    assert registered == expected and len(expected) >= 1

    # Again: everything is already there, nothing is added twice.
    response = client.post(reverse("nodes:register_owner"), {"owner": owner, "source": source.pk}, follow=True)
    assert "already registered" in response.content.decode()
    assert Node.objects.count() == len(expected) + 1


def test_it_owner_with_no_nodes_gets_a_clear_message(personas, fleet, client_as, settings):
    settings.ALLOW_ANY_NODE_URL = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    source = actions.register_nodes(membership=manager, text=fleet.urls[0])[0]
    html = client_as("manager").post(
        reverse("nodes:register_owner"), {"owner": "t1NobodyOwnsThis", "source": source.pk}).content.decode()
    assert "The network lists no node for t1NobodyOwnsThis." in html
    assert Node.objects.count() == 1


def test_it_owner_import_from_a_down_node_says_so(personas, fleet, client_as, settings):
    settings.ALLOW_ANY_NODE_URL = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    source = actions.register_nodes(membership=manager, text=fleet.urls[1])[0]
    fleet.inject(1, "down")
    html = client_as("manager").post(
        reverse("nodes:register_owner"), {"owner": "t1abc", "source": source.pk}).content.decode()
    assert "Could not read the node list from that node" in html
