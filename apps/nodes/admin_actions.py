"""Start a node admin operation: manager role (refusals audited), checked input, typed
confirmation for what can cost a node its confirmation, one Job with its `nodes.admin_start`
audit row in the same transaction, enqueued on commit. The job's params hold no credential."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent
from apps.accounts.models import Membership, Role
from apps.jobs.actions import enqueue
from apps.jobs.models import Job
from apps.nodes import admin_ops
from apps.nodes.admin_jobs import JOB_KIND
from fluxpanel.params import parse_id

AUDIT_ACTION = AuditEvent.NODES_ADMIN_START
MAX_NODES = 500


def start_node_admin(*, membership: Membership, operation: str, mode: str, node_ids=(),
                     skip_failures: bool = False, confirm: str = "") -> Job:
    """Rolling with no node chosen acts on the whole fleet (in order of name, up to MAX_NODES)."""
    from apps.nodes.models import Node

    require_role_audited(membership, Role.MANAGER, "nodes.admin_actions.start_node_admin")
    op = admin_ops.ADMIN_OPERATIONS.get(operation)
    if op is None:
        raise ValidationError("Choose an operation.")
    if mode not in admin_ops.MODES:
        raise ValidationError("Choose the nodes to act on.")
    team_nodes = Node.objects.filter(team=membership.team).order_by("name")
    ids = {i for i in map(parse_id, node_ids) if i is not None}
    nodes = list(team_nodes.filter(pk__in=ids)[:MAX_NODES + 1]) if ids else []
    if mode == "rolling" and not ids:
        nodes = list(team_nodes[:MAX_NODES + 1])
    if len(nodes) > MAX_NODES:
        raise ValidationError(f"At most {MAX_NODES} nodes in one operation.")
    if mode == "one" and len(nodes) != 1:
        raise ValidationError("Choose one node.")
    if not nodes:
        raise ValidationError("Select at least one node." if mode == "selected" else "The team has no node.")
    covered = admin_ops.session_rows(nodes)
    if not any(covered.get(n.pk, ("", None))[0] in op.privileges for n in nodes):
        wanted = " or ".join(op.privileges)
        raise ValidationError(f"{op.label} needs a valid {wanted} session on the node, and the panel holds "
                              "none for the chosen node(s): sign one (log in to the node on the Wallet page).")
    word = admin_ops.confirmation_word(nodes)
    if op.risky and confirm.strip() != word:
        raise ValidationError(f"{op.label} can cost a node its confirmation: type “{word}” to confirm.")
    params = {"operation": operation, "mode": mode, "nodes": [n.pk for n in nodes],
              "skip_failures": bool(skip_failures)}
    target = f"{op.label} on {nodes[0].name}" if len(nodes) == 1 else f"{op.label} on {len(nodes)} nodes"
    with transaction.atomic():
        job = Job.objects.create(team=membership.team, kind=JOB_KIND, target=target[:200], params=params,
                                 requested_by=membership.user)
        audit.record(team=membership.team, actor=membership.user, action=AUDIT_ACTION, target=job,
                     job=job.pk, operation=operation, mode=mode, nodes=len(nodes),
                     node_names=[n.name for n in nodes[:20]], skip_failures=params["skip_failures"])
        transaction.on_commit(lambda: enqueue(job.pk))
    return job
