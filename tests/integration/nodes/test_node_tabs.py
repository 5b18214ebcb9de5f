"""The readable live tabs (issue 17 item 1) against the simulated fleet and a hostile node:
figures against FluxOS's minimums, links to the team's app pages, replication health, versions
against the fleet's newest. A hostile answer is a tab error or "–", never a server error."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.models import Membership
from apps.deployments.models import TeamApp
from apps.nodes import actions
from apps.nodes.models import Node, NodeSnapshot
from apps.nodes.sweep import run_sweep

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "live-panel"}
SECTIONS = ["daemon", "benchmarks", "apps", "peers", "syncthing", "services", "payments"]


@pytest.fixture
def swept(personas, fleet, settings):
    """The whole simulated fleet registered and swept once (network height, versions)."""
    settings.ALLOW_ANY_NODE_URL = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    nodes = actions.register_nodes(membership=manager, text="\n".join(fleet.urls))
    run_sweep(personas.team.pk)
    return sorted(nodes, key=lambda n: fleet.urls.index(n.base_url))


def tab(client, node, section) -> str:
    response = client.get(reverse("nodes:detail", args=[node.pk]), {"section": section}, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def lone_node(personas, url) -> Node:
    node = Node.objects.create(team=personas.team, name="h", address=url.split("://", 1)[1], base_url=url)
    NodeSnapshot.objects.create(node=node, team=personas.team)
    return node


def test_it_says_the_daemon_is_synced_against_the_fleets_height(personas, client_as, swept):
    html = tab(client_as("viewer"), swept[1], "daemon")
    assert 'data-sync="synced"' in html and "Synced" in html
    height = NodeSnapshot.objects.filter(team=personas.team).order_by("-height").values_list("height", flat=True)[1]
    assert f'data-field="network_height">{height} ' in html
    assert 'data-field="connections">11<' in html  # fluxd getinfo: 11 out + 0 in


def test_it_counts_the_blocks_a_lagging_daemon_is_behind(personas, client_as, swept, fleet):
    fleet.inject(2, "behind", blocks=40)
    html = tab(client_as("viewer"), swept[2], "daemon")
    assert 'data-sync="not-synced"' in html
    assert "behind by 40 blocks" in html or "behind by 41 blocks" in html  # a block may pass


def test_it_passes_each_benchmark_figure_against_the_tiers_minimum(personas, client_as, swept):
    html = tab(client_as("viewer"), swept[0], "benchmarks")  # NIMBUS, new collateral
    assert 'data-bench="passed"' in html and "as NIMBUS" in html
    assert 'data-check="CPU threads" data-verdict="pass"' in html and "≥ 8" in html
    assert 'data-check="RAM" data-verdict="pass"' in html and "≥ 30 GB" in html
    assert 'data-check="SSD" data-verdict="pass"' in html and "≥ 440 GB" in html
    assert 'data-check="EPS" data-verdict="no minimum"' in html and "no FluxOS minimum known" in html
    assert 'data-check="Fluxbench version" data-verdict="pass"' in html


def test_it_names_the_failing_benchmark_figure_and_fluxbenchs_reason(personas, client_as, swept, fleet):
    fleet.inject(1, "bench_fail", figure="ram", value=1.5)  # CUMULUS (new): FluxOS needs 3 GB
    html = tab(client_as("viewer"), swept[1], "benchmarks")
    assert 'data-bench="failed"' in html
    assert "Minimum ram requirement for CUMULUS not met (1.5)" in html  # fluxbench's own text
    assert 'data-check="RAM" data-verdict="fail"' in html and "below the 3 GB FluxOS needs" in html
    assert "Below FluxOS's minimum: RAM 1.5 GB (≥ 3 GB)." in html
    assert 'data-check="CPU threads" data-verdict="pass"' in html


def test_it_links_installed_apps_to_the_teams_app_pages(personas, client_as, swept, fleet):
    app = TeamApp.objects.create(team=personas.team, name="web0", name_key="web0", owner="1x")
    html = tab(client_as("viewer"), swept[1], "apps")  # node 1 runs web0 and shop1
    link = reverse("deployments:detail", args=[app.pk])
    assert f'<li data-app="web0"><a href="{link}">web0</a>' in html
    assert '<li data-app="shop1">shop1' in html and "not one of the team" in html


def test_it_compares_peer_counts_with_fluxos_minimums(personas, client_as, swept, hostile, settings):
    html = tab(client_as("viewer"), swept[0], "peers")  # 11 outgoing, 0 incoming
    assert 'data-check="Outgoing" data-verdict="pass"' in html
    assert 'data-check="Incoming" data-verdict="fail"' in html and 'data-peers="too-few"' in html
    hostile.answers.update({"/flux/connectedpeers": [f"1.2.3.{i}" for i in range(8)],
                            "/flux/incomingconnections": [f"5.6.7.{i}" for i in range(4)]})
    html = tab(client_as("viewer"), lone_node(personas, hostile.url), "peers")
    assert 'data-peers="enough"' in html and "≥ 8" in html and "≥ 4" in html


def test_it_reports_replication_health_per_app_folder(personas, client_as, swept, fleet):
    html = tab(client_as("viewer"), swept[1], "syncthing")
    assert 'data-replication="healthy"' in html
    assert 'data-folder="fluxfront_web0"' in html and "in sync" in html
    fleet.inject(1, "syncthing_error")
    html = tab(client_as("viewer"), swept[1], "syncthing")
    assert 'data-replication="unhealthy"' in html and "not replicating: 2 errors" in html


def test_it_says_syncthing_is_down_when_fluxos_answers_its_error(personas, client_as, hostile, settings):
    settings.ALLOW_ANY_NODE_URL = True
    hostile.answers.update({"/syncthing/config": [{"id": "fluxapp_x", "type": "sendreceive"}]})
    html = tab(client_as("viewer"), lone_node(personas, hostile.url), "syncthing")
    assert 'data-replication="unhealthy"' in html and "not running" in html and "no route" in html


def test_it_compares_versions_with_the_fleets_newest(personas, client_as, swept):
    older = tab(client_as("viewer"), swept[0], "services")  # 8.16.1 in a fleet with 8.17.0
    assert 'data-check="FluxOS" data-verdict="fail"' in older and "older than the fleet&#x27;s newest 8.17.0" in older
    newest = tab(client_as("viewer"), swept[1], "services")
    assert 'data-check="FluxOS" data-verdict="pass"' in newest
    assert 'data-check="Fluxbench" data-verdict="pass"' in newest and "6.2.1" in newest
    assert 'data-field="dos"><span class="badge status-success">clear' in newest


def test_it_shows_arcane_and_dos_from_flux_info(personas, client_as, swept, fleet):
    fleet.inject(3, "dos", dosState=100, dosMessage="too many failed checks")
    html = tab(client_as("viewer"), swept[3], "services")
    assert "status-failed\">100</span> too many failed checks" in html
    arcane = fleet.node(3).id.arcane
    assert ('data-field="arcane">yes — ArcaneOS 1.4.2' in html) == arcane


HOSTILE = {
    "/flux/info": {"flux": "not a mapping", "benchmark": [1, 2], "daemon": 7},
    "/benchmark/getbenchmarks": {"status": {"x": 1}, "cores": "many", "ram": 1e300, "ssd": -4,
                                 "eps": "NaN", "bench_version": ["6"], "error": {"deep": 1}},
    "/benchmark/getstatus": "fine", "/flux/nodetier": 42,
    "/syncthing/health": {"status": "OK"}, "/syncthing/system": "nope", "/syncthing/config": {"a": 1},
    "/flux/connectedpeers": "1.2.3.4", "/flux/incomingconnections": {"x": 1},
    "/apps/listrunningapps": [{"Names": 5}, "junk"], "/apps/installedapps": [{"name": ["x"]}],
    "/daemon/getfluxnodestatus": {"payment_address": "../../etc", "last_paid_height": "soon"},
    "/daemon/getblockcount": 10**30, "/daemon/getinfo": [], "/flux/uptime": -1, "/flux/version": {"v": 1},
}


@pytest.mark.parametrize("section", SECTIONS)
def test_it_never_fails_on_a_hostile_answer(personas, client_as, hostile, settings, section):
    settings.ALLOW_ANY_NODE_URL = True
    hostile.answers.update(HOSTILE)
    html = tab(client_as("viewer"), lone_node(personas, hostile.url), section)
    assert f'data-section="{section}"' in html and "Traceback" not in html
    if section == "benchmarks":
        assert 'data-bench="failed"' in html and 'data-check="RAM" data-verdict="no minimum"' in html
    if section == "payments":
        assert "No figures yet" in html and "data-live-retry" in html
