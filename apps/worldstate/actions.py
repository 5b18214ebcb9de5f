"""Every write of the world-state pages, each with its audit row.

Writes to an engine can't share a database transaction, so the audit row is written after the
engine answered, with the outcome (success, or failure and the engine's message). Each action
checks the role itself.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import transaction

from apps.accounts import audit
from apps.accounts.access import require_role
from apps.accounts.audit import AuditEvent, Outcome
from apps.accounts.models import Membership, Role
from apps.worldstate.client import MAX_BATCH_DELETE, BatchItem, WorldStateError
from apps.worldstate.models import Engine, EngineNamespace, namespace_of
from fluxpanel import vault

FAILURE = Outcome.FAILURE


# ---- engines --------------------------------------------------------------------------------


def register_engine(*, membership: Membership, name: str, base_url: str, namespace: str = "",
                    token: str = "", admin_token: str = "") -> Engine:
    require_role(membership, Role.MANAGER)
    engine = Engine(team=membership.team, name=name, base_url=base_url, namespace=namespace)
    engine.set_token(token)
    engine.set_admin_token(admin_token)
    with transaction.atomic():
        engine.save()
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_ENGINE_REGISTER,
                     target=engine, base_url=base_url, namespace=namespace,
                     token=bool(token), admin_token=bool(admin_token))
    return engine


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of a URL: the peer that stored tokens are sent to."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


def update_engine(*, membership: Membership, engine: Engine, name: str, base_url: str,
                  namespace: str, token: str = "", admin_token: str = "",
                  clear_token: bool = False, clear_admin_token: bool = False,
                  bridge_enabled: bool = False) -> Engine:
    """Blank token fields keep the stored tokens; the clear_* flags remove them.

    A URL on another host (scheme, host or port) is another peer: the stored tokens and the
    namespaces registered through the panel (with their tokens) are forgotten, so they are
    never sent there. Tokens typed in the same form are kept: they are meant for the new host.
    """
    require_role(membership, Role.MANAGER)
    new_host = origin(engine.base_url) != origin(base_url)
    changed = {}
    for key, value in (("name", name), ("base_url", base_url), ("namespace", namespace),
                       ("bridge_enabled", bridge_enabled)):
        if getattr(engine, key) != value:
            changed[key] = value
            setattr(engine, key, value)
    if new_host:
        clear_token = clear_token or not token
        clear_admin_token = clear_admin_token or not admin_token
    if token or (clear_token and engine.has_token):
        engine.set_token(token)
        changed["token"] = "replaced" if token else "removed"
    if admin_token or (clear_admin_token and engine.has_admin_token):
        engine.set_admin_token(admin_token)
        changed["admin_token"] = "replaced" if admin_token else "removed"
    with transaction.atomic():
        if new_host:
            removed, _ = engine.namespaces.all().delete()
            if removed:
                changed["namespaces_removed"] = removed
        if {"base_url", "namespace"} & changed.keys():
            # Another engine or namespace: what was published before says nothing about it.
            engine.bridge_records.all().delete()
        engine.save()
        audit.record(team=membership.team, actor=membership.user,
                     action=AuditEvent.WORLDSTATE_ENGINE_UPDATE, target=engine, new_host=new_host,
                     **changed)
    return engine


def delete_engine(*, membership: Membership, engine: Engine) -> None:
    require_role(membership, Role.MANAGER)
    with transaction.atomic():
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_ENGINE_DELETE,
                     target=engine, base_url=engine.base_url)
        engine.delete()


# ---- events ---------------------------------------------------------------------------------


def token_for(entity_id: str, tokens: dict[str, str], fallback: str | None) -> str | None:
    """The token of the entity's namespace when the panel holds it, else the engine's own."""
    return tokens.get(namespace_of(entity_id) or "", fallback)


def publish_event(*, membership: Membership, engine: Engine, entity_id: str, properties: dict,
                  stream: str, source: str) -> str:
    """Publish one event; returns its eventId. WorldStateError carries the engine's refusal."""
    require_role(membership, Role.OPERATOR)
    token = token_for(entity_id, engine.namespace_tokens(), engine.token())
    try:
        event_id = engine.client(token=token).publish(stream, source, entity_id, properties)
    except WorldStateError as error:
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_PUBLISH,
                     target=engine, outcome=FAILURE, entity_id=entity_id, error=str(error)[:300])
        raise
    audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_PUBLISH,
                 target=engine, entity_id=entity_id, event_id=event_id,
                 properties=sorted(properties)[:20])
    return event_id


@dataclass
class BatchOutcome:
    successful: int = 0
    failed: int = 0
    results: list[tuple[str, BatchItem]] = field(default_factory=list)  # (entity id, result)

    @property
    def errors(self) -> list[tuple[int, str, str]]:
        return [(number, entity_id, item.error) for number, (entity_id, item)
                in enumerate(self.results, start=1) if item.error]


def _item_entity(item: dict) -> str:
    return item["payload"]["entity_id"] if "payload" in item else item["entity_id"]


def publish_batch(*, membership: Membership, engine: Engine, items: list[dict]) -> BatchOutcome:
    """Publish pasted events. One request per token the items need (usually one), so events of
    several namespaces each carry their own namespace's token; results keep the input order."""
    require_role(membership, Role.OPERATOR)
    tokens, own = engine.namespace_tokens(), engine.token()
    groups: dict[str | None, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(token_for(_item_entity(item), tokens, own), []).append(index)
    results: list[BatchItem | None] = [None] * len(items)
    try:
        for token, indexes in groups.items():
            answer = engine.client(token=token, timeout=30).publish_batch(
                [items[i] for i in indexes])
            for index, result in zip(indexes, answer.results, strict=True):
                results[index] = result
    except WorldStateError as error:
        done = sum(1 for result in results if result is not None)
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_PUBLISH_BATCH,
                     target=engine, outcome=FAILURE, events=len(items), sent=done,
                     error=str(error)[:300])
        if done:  # part of it went out before the failure: say so
            raise WorldStateError(error.status, f"{error.message} (the first {done} event(s) "
                                                f"were already published)") from error
        raise
    outcome = BatchOutcome(results=[(_item_entity(item), result)
                                    for item, result in zip(items, results, strict=True)])
    outcome.successful = sum(1 for _, result in outcome.results if result.ok)
    outcome.failed = len(items) - outcome.successful
    audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_PUBLISH_BATCH,
                 target=engine, outcome=FAILURE if outcome.failed and not outcome.successful else Outcome.SUCCESS,
                 events=len(items), successful=outcome.successful, failed=outcome.failed)
    return outcome


def delete_entities(*, membership: Membership, engine: Engine, entity_ids: Iterable[str],
                    prefix: str | None = None) -> int:
    """Delete exactly these ids (a prefix delete is resolved to ids first, then confirmed).

    Ids are grouped by the token their namespace needs: in auth mode the engine checks every id
    of a batch delete against the one bearer and refuses the whole request on the first mismatch.
    """
    require_role(membership, Role.OPERATOR)
    entity_ids = list(dict.fromkeys(entity_ids))
    tokens, own = engine.namespace_tokens(), engine.token()
    groups: dict[str | None, list[str]] = {}
    for entity_id in entity_ids:
        groups.setdefault(token_for(entity_id, tokens, own), []).append(entity_id)
    deleted = 0
    try:
        for token, ids in groups.items():
            client = engine.client(token=token, timeout=60)
            if len(ids) == 1:
                client.delete(ids[0])
                deleted += 1
                continue
            for start in range(0, len(ids), MAX_BATCH_DELETE):
                deleted += client.delete_many(entity_ids=ids[start:start + MAX_BATCH_DELETE])
    except WorldStateError as error:
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_DELETE,
                     target=engine, outcome=FAILURE, requested=len(entity_ids), deleted=deleted,
                     prefix=prefix, error=str(error)[:300])
        if deleted:
            raise WorldStateError(error.status, f"{error.message} ({deleted} of "
                                                f"{len(entity_ids)} were deleted)") from error
        raise
    audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_DELETE,
                 target=engine, deleted=deleted, prefix=prefix, entity_ids=entity_ids[:20])
    return deleted


# ---- engine administration ------------------------------------------------------------------


def update_runtime_config(*, membership: Membership, engine: Engine, **fields) -> dict:
    require_role(membership, Role.MANAGER)
    try:
        config = engine.client(admin=True).update_admin_config(**fields)
    except WorldStateError as error:
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_CONFIG,
                     target=engine, outcome=FAILURE, error=str(error)[:300], **fields)
        raise
    audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_CONFIG,
                 target=engine, **fields)
    return config


def register_namespace(*, membership: Membership, engine: Engine,
                       name: str) -> tuple[EngineNamespace, str]:
    """Register a namespace on the engine; the token is returned once and kept encrypted."""
    require_role(membership, Role.MANAGER)
    try:
        namespace_id, token = engine.client(admin=True).register_namespace(name)
    except WorldStateError as error:
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_NAMESPACE,
                     target=engine, outcome=FAILURE, name=name, error=str(error)[:300])
        raise
    with transaction.atomic():
        record, _created = EngineNamespace.objects.update_or_create(
            engine=engine, name=name,
            defaults={"namespace_id": namespace_id, "token_encrypted": vault.encrypt(token),
                      "created_by": membership.user})
        audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_NAMESPACE,
                     target=engine, name=name, namespace_id=namespace_id)
    return record, token


def publish_fleet_now(*, membership: Membership, engine: Engine):
    """Publish the whole fleet again (ignoring what was published before), e.g. after the
    engine lost its state."""
    from apps.worldstate.bridge import publish_fleet

    require_role(membership, Role.MANAGER)
    run = publish_fleet(engine, force=True)
    audit.record(team=membership.team, actor=membership.user, action=AuditEvent.WORLDSTATE_BRIDGE_PUBLISH,
                 target=engine, outcome=FAILURE if run.error else Outcome.SUCCESS,
                 published=run.published, failed=run.failed, error=run.error[:300])
    return run
