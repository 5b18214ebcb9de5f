"""Start a command in an app's container (Exec): operator role (refusals audited), the command line
parsed into argv (no shell), anything that looks like a secret refused before any node is asked
and without the command being stored or logged, then one `app_exec` Job with its audit row (which
carries the command) in the same transaction, enqueued on commit. The job's params hold no
credential: the owner's authorisation is looked up when it runs.

Why secrets are refused: the command and its environment end up in the job's output, the audit
log and the container; the panel must not become a way to push keys into containers.
"""
from __future__ import annotations

import re
import shlex

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts import audit
from apps.accounts.access import require_role_audited
from apps.accounts.audit import AuditEvent
from apps.accounts.models import AuditEntry, Membership, Role
from apps.jobs.actions import enqueue
from apps.jobs.models import Job
from apps.operations import operations as ops
from apps.operations.exec_runs import JOB_KIND, no_owner_message
from apps.wallets.secrets_guard import find_secret, refusal_message, secret_name
from fluxpanel.fluxos.client import component_name
from fluxpanel.params import parse_id

AUDIT_ACTION = AuditEvent.OPERATIONS_EXEC
MAX_COMMAND_CHARS = 2000
MAX_ENV_ENTRIES = 20
MAX_ENV_CHARS = 1000
# A variable (or a --flag=) named like one of these carries a secret, whatever its value looks like.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ASSIGNMENT = re.compile(r"-*([A-Za-z_][A-Za-z0-9_.-]*)=")
# Control characters (NUL above all: PostgreSQL's JSON cannot hold it) have no place in a typed line.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class SecretRefused(ValidationError):
    pass


def parse_command(line: str) -> list[str]:
    """argv of a typed command line, split like a POSIX shell would (quotes, escapes) but never
    run by one: no pipes, globs or variables."""
    line = (line or "").strip()
    if not line:
        raise ValidationError("Type a command.")
    if len(line) > MAX_COMMAND_CHARS:
        raise ValidationError(f"The command is longer than {MAX_COMMAND_CHARS} characters.")
    if CONTROL.search(line):
        raise ValidationError("The command holds control characters: type it on one line.")
    try:
        argv = shlex.split(line)
    except ValueError as exc:  # e.g. "No closing quotation"
        raise ValidationError(f"The command line cannot be read ({exc}): close its quotes or escape them.") from None
    if not argv:
        raise ValidationError("Type a command.")
    return argv


def parse_env(text: str) -> list[str]:
    """One `NAME=value` per line (blank lines ignored)."""
    entries = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(entries) > MAX_ENV_ENTRIES:
        raise ValidationError(f"At most {MAX_ENV_ENTRIES} environment lines.")
    for number, entry in enumerate(entries, 1):
        name, equals, _ = entry.partition("=")
        if not equals or not ENV_NAME.fullmatch(name):
            raise ValidationError(f"Environment line {number} is not NAME=value (a letter or _ first, "
                                  "then letters, digits and _).")
        if len(entry) > MAX_ENV_CHARS:
            raise ValidationError(f"Environment line {number} is longer than {MAX_ENV_CHARS} characters.")
        if CONTROL.search(entry):
            raise ValidationError(f"Environment line {number} holds control characters.")
    return entries


def secret_problem(line: str, argv: list[str], env: list[str]) -> tuple[str, str] | None:
    """(which field, what the refusal says) when the command or its environment looks like it
    carries a secret; None when it does not. Never repeats the value."""
    kind = find_secret(line, name="command") or next(
        (k for k in (find_secret(part, name="command") for part in argv) if k), None)
    if kind:
        return "command", refusal_message(kind)
    for part in argv:
        match = ASSIGNMENT.match(part)
        if match and secret_name(match.group(1)):
            return "command", (f"The command sets “{match.group(1)}”, a name that holds a secret. Exec does not "
                               "pass secrets: they would stay in the job's output and the audit log.")
    for entry in env:
        name, _, value = entry.partition("=")
        kind = find_secret(value, name=name) or find_secret(entry, name=name)
        if kind:
            return "env", refusal_message(kind)
        if secret_name(name):
            return "env", (f"The environment variable “{name}” is named like a secret. Exec does not pass "
                           "secrets into containers: they would stay in the job's output and the audit log. "
                           "Put it in the app's specification instead.")
    return None


def start_exec(*, membership: Membership, app, instance_id, component: str = "", command: str = "",
               env_text: str = "") -> Job:
    require_role_audited(membership, Role.OPERATOR, "operations.exec_actions.start_exec")
    if app.team_id != membership.team_id:
        raise ValidationError("This app belongs to another team.")
    command = (command or "").strip()
    # The secrets check comes first, so even a line that does not parse is refused for its secret.
    try:
        argv, unreadable = parse_command(command), None
    except ValidationError as exc:
        argv, unreadable = command.split(), exc
    env_lines = [line.strip() for line in (env_text or "").splitlines() if line.strip()]
    problem = secret_problem(command, argv, env_lines)
    if problem is not None:
        field, message = problem
        # Recorded without the command or the environment: only that, and where, one was refused.
        audit.record(team=membership.team, actor=membership.user, action=AUDIT_ACTION, target=app,
                     outcome=AuditEntry.Outcome.DENIED, refused=f"secret in the {field}")
        raise SecretRefused(message)
    if unreadable is not None:
        raise unreadable
    env = parse_env(env_text)
    from apps.deployments.sync import component_names

    instance_pk = parse_id(instance_id)
    instance = app.instances.filter(pk=instance_pk).first() if instance_pk is not None else None
    if instance is None:
        raise ValidationError("Choose an instance.")
    components = component_names(app.spec or {})
    component = (component or "").strip()
    if components and component not in components:
        raise ValidationError(f"Choose a component of {app.name}: {', '.join(components)}.")
    if not components:
        component = ""  # a v1–3 app is one container, addressed by the app's name
    if ops.owner_auth(membership, app) is None:
        raise ValidationError(no_owner_message(app))
    line = shlex.join(argv)
    params = {"app": app.pk, "instance": instance.pk, "component": component, "argv": argv, "env": env}
    with transaction.atomic():
        job = Job.objects.create(team=membership.team, kind=JOB_KIND, requested_by=membership.user,
                                 target=f"Exec in {component_name(component or None, app.name)}: {line}"[:200],
                                 params=params)
        audit.record(team=membership.team, actor=membership.user, action=AUDIT_ACTION, target=app, job=job.pk,
                     command=line, env=[entry.partition("=")[0] for entry in env], instance=instance.location,
                     component=component)
        transaction.on_commit(lambda: enqueue(job.pk))
    return job
