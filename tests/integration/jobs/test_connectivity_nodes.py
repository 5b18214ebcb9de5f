"""The demo job asks each registered node of the team, over real HTTP, and reports each one."""
from apps.accounts.models import Membership
from apps.jobs import actions as job_actions
from apps.jobs.models import Job
from apps.jobs.runner import run_job
from apps.nodes import actions as node_actions


def test_it_check_connectivity_reports_each_node(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    text = "\n".join(f"{url} sim-{i}" for i, url in enumerate(fleet.urls[:4]))
    node_actions.register_nodes(membership=manager, text=text)
    fleet.inject(2, "down")
    job = job_actions.start_job(membership=manager, kind="check_connectivity", params={"pause": 0})
    job = run_job(job.pk)
    assert job.status == Job.Status.SUCCEEDED
    lines = list(job.lines.values_list("text", flat=True))
    assert any(line.startswith("sim-0: FluxOS 8.") for line in lines)
    assert any(line.startswith("sim-2: not reachable") for line in lines)
    assert "3 of 4 node(s) answered." in lines
