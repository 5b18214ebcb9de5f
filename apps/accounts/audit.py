"""Record one audit row per write. Action functions call `record`; nothing else writes rows."""
from __future__ import annotations

from apps.accounts.models import AuditEntry


def describe(obj) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    return type(obj).__name__.lower(), str(getattr(obj, "pk", "") or ""), str(obj)[:200]


def record(
    *,
    team,
    actor,
    action: str,
    target=None,
    outcome: str = AuditEntry.Outcome.SUCCESS,
    **detail,
) -> AuditEntry:
    target_type, target_id, target_repr = describe(target)
    return AuditEntry.objects.create(
        team=team,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "system",
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        outcome=outcome,
        detail=detail,
    )
