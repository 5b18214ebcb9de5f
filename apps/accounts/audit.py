"""Record one audit row per write. Action functions call `record`; nothing else writes rows.

`AuditEvent` names every kind of write in the panel, so the audit page's filter, the tests and the
code agree on one spelling. `record` still accepts a plain string during the transition (an app
that adds an event before adding it here keeps working); new code passes an `AuditEvent`.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models

from apps.accounts.models import AuditEntry

Outcome = AuditEntry.Outcome


class AuditEvent(models.TextChoices):
    # accounts
    ACCOUNT_FIRST_USER = "account.first_user", "First account created"
    ACCOUNT_CREATE = "account.create", "Account created"
    ACCESS_DENIED = "access.denied", "Access denied"
    TEAM_CREATE = "team.create", "Team created"
    INVITATION_CREATE = "invitation.create", "Invitation created"
    INVITATION_REVOKE = "invitation.revoke", "Invitation revoked"
    INVITATION_ACCEPT = "invitation.accept", "Invitation accepted"
    MEMBER_ROLE = "member.role", "Member's role changed"
    MEMBER_REMOVE = "member.remove", "Member removed"
    # jobs
    JOB_START = "job.start", "Job started"
    JOB_CANCEL = "job.cancel", "Job cancelled"
    # nodes
    NODE_REGISTER = "node.register", "Nodes registered"
    NODE_UPDATE = "node.update", "Node updated"
    NODE_DELETE = "node.delete", "Node removed"
    NODE_CLAIM = "node.claim", "Maintenance claimed"
    NODE_RELEASE = "node.release", "Maintenance released"
    NODES_ADMIN_START = "nodes.admin_start", "Node admin operation started"
    GROUP_CREATE = "group.create", "Group created"
    SWEEP_INTERVAL = "sweep.interval", "Sweep interval changed"
    SWEEP_NOW = "sweep.now", "Sweep started"
    ALERT_RULE_CREATE = "alert_rule.create", "Alert rule created"
    ALERT_RULE_DELETE = "alert_rule.delete", "Alert rule deleted"
    METRICS_TOKEN = "metrics.token", "Metrics token issued"
    # wallets
    WALLET_SIGNIN = "wallet.signin", "Signed in with a wallet"
    WALLET_BIND = "wallet.bind", "ZelID linked"
    WALLET_UNBIND = "wallet.unbind", "ZelID unlinked"
    NODE_SESSION_STORE = "node_session.store", "Node session stored"
    NODE_SESSION_LOGOUT = "node_session.logout", "Node session logged out"
    NODE_SESSION_RENEW = "node_session.renew", "Node sessions renewed"
    NODE_SESSION_WARN = "node_session.warn", "Node session expiry warned"
    APP_OWNER_AUTHORISE = "app_owner.authorise", "App owner authorisation stored"
    APP_OWNER_REVOKE = "app_owner.revoke", "App owner authorisation revoked"
    SIGNING_CREATE = "signing.create", "Signing request created"
    SIGNING_OPEN = "signing.open", "Signing request opened"
    SIGNING_SIGN = "signing.sign", "Signing request signed"
    SIGNING_DECLINE = "signing.decline", "Signing request declined"
    SIGNING_REFUSE = "signing.refuse", "Signing request refused"
    SIGNING_CANCEL = "signing.cancel", "Signing request cancelled"
    SIGNING_EXPIRE = "signing.expire", "Signing request expired"
    SIGNING_FAIL = "signing.fail", "Signing request failed"
    # deployments
    DEPLOYMENTS_OWNER_ADD = "deployments.owner_add", "Watched owner added"
    DEPLOYMENTS_OWNER_REMOVE = "deployments.owner_remove", "Watched owner removed"
    DEPLOYMENTS_SOURCES_SET = "deployments.sources_set", "App sources changed"
    DEPLOYMENTS_APP_ADD = "deployments.app_add", "App added by name"
    DEPLOYMENTS_APP_DROP = "deployments.app_drop", "App dropped"
    DEPLOYMENTS_APP_RESTORE = "deployments.app_restore", "App restored"
    DEPLOYMENTS_SYNC_NOW = "deployments.sync_now", "App sync started"
    # builder (drafts, signing, submission, payment)
    BUILDER_DRAFT_CREATE = "builder.draft_create", "App draft created"
    BUILDER_DRAFT_SAVE = "builder.draft_save", "App draft saved"
    BUILDER_DRAFT_ABANDON = "builder.draft_abandon", "App draft abandoned"
    BUILDER_SIGN_REQUEST = "builder.sign_request", "App message sent for signing"
    BUILDER_SUBMIT = "builder.submit", "App message submitted"
    BUILDER_SUBMIT_RETRY = "builder.submit_retry", "App message submission retried"
    BUILDER_SUBMIT_ACCEPTED = "builder.submit_accepted", "App message accepted by the network"
    BUILDER_SUBMIT_FAILED = "builder.submit_failed", "App message submission failed"
    BUILDER_PAYMENT = "builder.payment", "App payment seen"
    BUILDER_TEST_INSTALL = "builder.test_install", "App test install started"
    # operations (apps.operations): operating a team app across its instances
    OPERATIONS_START = "operations.start", "App operation started"
    OPERATIONS_EXEC = "operations.exec", "Command run in an app"
    OPERATIONS_WINDOW_CREATE = "operations.window_create", "Maintenance window created"
    OPERATIONS_WINDOW_UPDATE = "operations.window_update", "Maintenance window changed"
    OPERATIONS_WINDOW_DELETE = "operations.window_delete", "Maintenance window deleted"
    OPERATIONS_SCHEDULE_CREATE = "operations.schedule_create", "Operation scheduled"
    OPERATIONS_SCHEDULE_UPDATE = "operations.schedule_update", "Scheduled operation changed"
    OPERATIONS_SCHEDULE_DELETE = "operations.schedule_delete", "Scheduled operation deleted"
    OPERATIONS_SCHEDULE_RUN = "operations.schedule_run", "Scheduled operation refused"
    FILES_MKDIR = "files.mkdir", "Folder created in a volume"
    FILES_RENAME = "files.rename", "Volume file renamed"
    FILES_DELETE = "files.delete", "Volume file deleted"
    FILES_UPLOAD = "files.upload", "File uploaded to a volume"
    FILES_DOWNLOAD = "files.download", "Volume file downloaded"
    # backups (apps.backups)
    BACKUP_START = "backups.start", "Backup started"
    BACKUP_VERIFY = "backups.verify", "Backup verification started"
    BACKUP_DOWNLOAD = "backups.download", "Backup downloaded"
    BACKUP_DELETE = "backups.delete", "Backup deleted"
    BACKUP_UPLOAD = "backups.upload", "Backup archive uploaded"
    BACKUP_RESTORE = "backups.restore", "Restore started"
    BACKUP_RESTORE_UNSAFE = "backups.restore_unsafe", "Restore started without a safety backup"
    BACKUP_PRUNE = "backups.prune", "Backups pruned by retention"
    BACKUP_SCHEDULE_CREATE = "backups.schedule_create", "Backup scheduled"
    BACKUP_SCHEDULE_UPDATE = "backups.schedule_update", "Backup schedule changed"
    BACKUP_SCHEDULE_DELETE = "backups.schedule_delete", "Backup schedule deleted"
    BACKUP_SCHEDULE_RUN = "backups.schedule_run", "Scheduled backup refused"
    # worldstate
    WORLDSTATE_ENGINE_REGISTER = "worldstate.engine.register", "Engine registered"
    WORLDSTATE_ENGINE_UPDATE = "worldstate.engine.update", "Engine updated"
    WORLDSTATE_ENGINE_DELETE = "worldstate.engine.delete", "Engine removed"
    WORLDSTATE_PUBLISH = "worldstate.publish", "Entity published"
    WORLDSTATE_PUBLISH_BATCH = "worldstate.publish_batch", "Entities published"
    WORLDSTATE_DELETE = "worldstate.delete", "Entities deleted"
    WORLDSTATE_NAMESPACE = "worldstate.namespace", "Namespace changed"
    WORLDSTATE_CONFIG = "worldstate.config", "Engine configuration changed"
    WORLDSTATE_BRIDGE_PUBLISH = "worldstate.bridge.publish", "Fleet published"


def describe(obj) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    return type(obj).__name__.lower(), str(getattr(obj, "pk", "") or ""), str(obj)[:200]


def record(
    *,
    team,
    actor,
    action: AuditEvent | str,
    target=None,
    outcome: str = Outcome.SUCCESS,
    **detail,
) -> AuditEntry:
    target_type, target_id, target_repr = describe(target)
    return AuditEntry.objects.create(
        flow=(_current_flow.get() or flow_of(target))[:80],
        team=team,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "system",
        action=str(action.value if isinstance(action, AuditEvent) else action)[:64],
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        outcome=Outcome(outcome),
        detail=detail,
    )


# The flow the rows being written belong to, set around work done on behalf of a flow (the action
# a signature runs records its own rows, about its own target).
_current_flow: ContextVar[str] = ContextVar("audit_flow", default="")


def flow_of(target) -> str:
    """A target that is a step of a longer flow names it (`audit_flow`), e.g. a signing request."""
    return str(getattr(target, "audit_flow", "") or "")


@contextmanager
def within_flow(key: str) -> Iterator[None]:
    """Rows recorded inside belong to the flow `key`."""
    token = _current_flow.set(key)
    try:
        yield
    finally:
        _current_flow.reset(token)
