"""The node page and its live tabs (one URL: `?section=`), against simulated and hostile nodes."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.nodes.models import Node, NodeSnapshot

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "live-panel"}


def node_at(personas, url, name="n1"):
    node = Node.objects.create(team=personas.team, name=name, address=url.split("://", 1)[1], base_url=url)
    NodeSnapshot.objects.create(node=node, team=personas.team)
    return node


@pytest.mark.parametrize("section", ["daemon", "benchmarks", "apps", "peers", "syncthing", "services",
                                     "payments"])
def test_it_renders_each_live_tab_of_a_simulated_node(personas, fleet, client_as, settings, section):
    settings.ALLOW_ANY_NODE_URL = True
    node = node_at(personas, fleet.urls[0])
    url = reverse("nodes:detail", args=[node.pk])
    tab = client_as("viewer").get(url, {"section": section}, **HTMX)
    html = tab.content.decode()
    assert tab.status_code == 200 and "<html" not in html
    assert f'data-section="{section}"' in html and "No answer" not in html
    # The same URL without htmx is the whole page with that tab filled in (links work without JS).
    page = client_as("viewer").get(url, {"section": section}).content.decode()
    assert "<html" in page and f'data-section="{section}"' in page
    assert f'href="{url}?section={section}" hx-get="{url}?section={section}"' in page


def test_it_loads_the_daemon_tab_from_the_page_itself(personas, client_as):
    node = node_at(personas, "http://93.184.216.7:16127")
    page = client_as("viewer").get(reverse("nodes:detail", args=[node.pk])).content.decode()
    assert f'hx-get="{reverse("nodes:detail", args=[node.pk])}?section=daemon" hx-trigger="load"' in page
    assert client_as("viewer").get(reverse("nodes:detail", args=[node.pk]), {"section": "nope"}).status_code == 404


def test_it_shows_a_non_numeric_uptime_or_height_instead_of_failing(personas, client_as, settings, hostile):
    """A node reporting uptime "soon" and a block count of {} used to give a server error."""
    settings.ALLOW_ANY_NODE_URL = True
    hostile.answers.update({
        "/flux/version": "8.17.0", "/flux/uptime": "soon", "/daemon/getblockcount": {"x": 1},
        "/flux/dosstate": ["not", "a", "mapping"], "/daemon/getfluxnodestatus": "CONFIRMED",
    })
    node = node_at(personas, hostile.url)
    response = client_as("viewer").get(reverse("nodes:detail", args=[node.pk]), {"section": "daemon"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="uptime">uptime is not a' in html
    assert 'data-field="block_count">block count is not a' in html


def test_it_shows_apps_of_the_wrong_shape_without_failing(personas, client_as, settings, hostile):
    settings.ALLOW_ANY_NODE_URL = True
    hostile.answers.update({
        "/apps/listrunningapps": [{"Names": 5, "Image": {"a": 1}}, "text", 7],
        "/apps/installedapps": {"not": "a list"},
    })
    node = node_at(personas, hostile.url)
    response = client_as("viewer").get(reverse("nodes:detail", args=[node.pk]), {"section": "apps"}, **HTMX)
    assert response.status_code == 200
    assert response.content.decode().count('<li class="mono">') == 3


def test_it_names_the_reason_when_the_node_is_refused(personas, client_as, settings):
    settings.ALLOW_ANY_NODE_URL = False  # a loopback node address is not called
    node = node_at(personas, "http://127.0.0.1:9/n")
    html = client_as("viewer").get(reverse("nodes:detail", args=[node.pk]), {"section": "daemon"}, **HTMX).content.decode()
    assert "No answer from the node: " in html and "address not allowed (not public)" in html
    assert "loopback address" in html  # the technical detail, one click away
