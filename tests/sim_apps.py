"""A team app as the panel knows it after a sync, placed on the simulated nodes that run it."""
from __future__ import annotations

from apps.deployments.models import AppInstance, TeamApp
from apps.nodes.models import Node, NodeSnapshot


def team_app_on_sim_nodes(team, fleet, name: str):
    """The TeamApp of the simulated fleet's app `name` with one running instance per node that
    hosts it, each node registered to `team` with a fresh snapshot (so the panel calls it).
    Returns (app, the simulator's app entry)."""
    entry = fleet.app(name)
    app = TeamApp.objects.create(team=team, name=entry.name, owner=entry.spec["owner"], spec=entry.spec,
                                 components=len(entry.spec.get("compose", [])) or 1,
                                 instances_wanted=len(entry.nodes))
    for index in entry.nodes:
        location = fleet.fleet.identity(index).location
        node = Node.objects.create(team=team, name=f"n{index}", address=location, base_url=fleet.url(index))
        NodeSnapshot.objects.create(node=node, team=team, maintenance_blocks=400)
        AppInstance.objects.create(app=app, team=team, location=location, node=node, state="running")
    return app, entry
