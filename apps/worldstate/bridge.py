"""The fleet bridge: after each sweep, publish the fleet's state as world-state entities.

For every engine of the team with the bridge on, each node becomes `<namespace>/node-<name>` and
each app `<namespace>/app-<name>` (its instance count: the nodes whose latest snapshot lists it;
for a team app also what app sync says: status, instances running/wanted, expiry, owner). It runs
after every sweep and after every app sync (`apps_synced`).
Only entities whose properties changed since the last publish are sent, in one batch request
(split only if it would pass the engine's 2 MiB body cap). A digest per published entity is kept
in BridgeRecord; a node that left the fleet gets a tombstone, an app that runs nowhere any more
gets `instances: 0`.

Node properties leave out what moves with every block (raw height, maintenance blocks left):
those would make every sweep republish every node, and `height_lag` already says whether a node
keeps up.

The engine's failures never break the sweep: they are logged and kept on the engine row, which
the engine page shows.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass

from django.utils import timezone

from apps.worldstate.client import BATCH_BODY_LIMIT, WorldStateError
from apps.worldstate.models import BridgeRecord, Engine

log = logging.getLogger(__name__)

STREAM = "fluxpanel.fleet"
SOURCE = "fluxpanel-bridge"
TIMEOUT_S = 10.0
DELETED = "deleted"
# Room for the envelope around each event and the `{"events":[...]}` wrapper.
CHUNK_BYTES = BATCH_BODY_LIMIT - 64 * 1024
EVENT_OVERHEAD = 160


@dataclass
class BridgeRun:
    published: int = 0  # events the engine accepted
    unchanged: int = 0
    failed: int = 0
    requests: int = 0
    error: str = ""


def entity_name(name: str) -> str:
    """An entity id may hold one `/` only (the namespace's): others become `_`."""
    return name.replace("/", "_")


def digest(properties: dict) -> str:
    text = json.dumps(properties, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()


def fleet_entities(team_id: int, namespace: str) -> dict[str, dict]:
    """What the bridge would publish now: node and app entities of the team's latest snapshots."""
    from apps.nodes.models import NodeSnapshot

    rows = NodeSnapshot.objects.filter(team_id=team_id).values_list(
        "node__name", "state", "reason", "version", "tier", "height_lag", "apps_running", "detail")
    entities: dict[str, dict] = {}
    instances: Counter[str] = Counter()
    for name, state, reason, version, tier, height_lag, apps_running, detail in rows:
        entities[f"{namespace}/node-{entity_name(name)}"] = {
            "state": state, "reason": reason, "version": version, "tier": tier,
            "height_lag": height_lag, "apps_running": apps_running,
        }
        apps = (detail or {}).get("apps") or []
        instances.update({str(app) for app in apps if app})
    for app, count in instances.items():
        entities[f"{namespace}/app-{entity_name(app)}"] = {"instances": count}
    add_team_apps(team_id, namespace, entities)
    return entities


def add_team_apps(team_id: int, namespace: str, entities: dict[str, dict]) -> None:
    """The team's apps (app sync's view of the network) join the app entities: status, instances
    running/wanted network-wide, expiry block and date, owner. FluxOS app names are
    case-insensitive, so a team app merges with the fleet's entity of the same name in any case.
    The date is the day only: the estimate moves with block times and would republish every sync."""
    from apps.deployments.models import TeamApp

    prefix = f"{namespace}/app-"
    by_key = {entity_id.lower(): entity_id for entity_id in entities if entity_id.startswith(prefix)}
    rows = TeamApp.objects.filter(team_id=team_id, dropped=False).values_list(
        "name", "status", "instances_running", "instances_wanted", "expiry_height", "expires_at", "owner")
    for name, status, running, wanted, expiry_height, expires_at, owner in rows:
        entity_id = f"{prefix}{entity_name(name)}"
        entity_id = by_key.get(entity_id.lower(), entity_id)
        properties = entities.setdefault(entity_id, {"instances": 0})
        properties.update({
            "status": status, "instances_running": running, "instances_wanted": wanted,
            "expiry_height": expiry_height,
            "expires_on": expires_at.date().isoformat() if expires_at else None, "owner": owner,
        })


def changes(engine: Engine, desired: dict[str, dict], records: dict[str, str],
            force: bool) -> list[tuple[str, dict, str]]:
    """(entity id, properties, digest) to publish: new or changed entities, apps that stopped
    running anywhere (instances 0) and tombstones for nodes that left the fleet."""
    found = []
    for entity_id, properties in desired.items():
        value = digest(properties)
        if force or records.get(entity_id) != value:
            found.append((entity_id, properties, value))
    app_prefix = f"{engine.namespace}/app-"
    for entity_id in sorted(records.keys() - desired.keys()):
        if entity_id.startswith(app_prefix):
            properties = {"instances": 0}
            value = digest(properties)
            if force or records[entity_id] != value:
                found.append((entity_id, properties, value))
        else:
            found.append((entity_id, {"__deleted__": True}, DELETED))
    return found


def chunks(events: list[dict]) -> list[list[dict]]:
    """One chunk, unless the body would pass the engine's cap (a very large fleet)."""
    groups, current, size = [], [], 0
    for event in events:
        event_size = len(json.dumps(event["properties"], ensure_ascii=False).encode()) \
            + len(event["entity_id"].encode()) + EVENT_OVERHEAD
        if current and size + event_size > CHUNK_BYTES:
            groups.append(current)
            current, size = [], 0
        current.append(event)
        size += event_size
    if current:
        groups.append(current)
    return groups


def publish_fleet(engine: Engine, *, force: bool = False) -> BridgeRun:
    """Publish what changed to one engine and remember it. Engine errors end up in the run
    (and on the engine row), never as an exception."""
    run = BridgeRun()
    now = timezone.now()
    if not engine.namespace:
        run.error = "The bridge needs a namespace: set one on the engine's settings."
        _finish(engine, run, now)
        return run
    desired = fleet_entities(engine.team_id, engine.namespace)
    records = dict(engine.bridge_records.values_list("entity_id", "digest"))
    pending = changes(engine, desired, records, force)
    run.unchanged = len(desired) - sum(1 for entity_id, _, _ in pending if entity_id in desired)
    if not pending:
        _finish(engine, run, now)
        return run
    digests = {entity_id: value for entity_id, _, value in pending}
    events = [{"stream": STREAM, "source": SOURCE, "entity_id": entity_id,
               "properties": properties} for entity_id, properties, _ in pending]
    client = engine.client(timeout=TIMEOUT_S)
    accepted: list[str] = []
    errors: list[str] = []
    try:
        for chunk in chunks(events):
            result = client.publish_batch(chunk)
            run.requests += 1
            for event, item in zip(chunk, result.results, strict=True):
                if item.ok:
                    accepted.append(event["entity_id"])
                else:
                    errors.append(f"{event['entity_id']}: {item.error}")
    except WorldStateError as error:
        run.error = str(error)
    run.published = len(accepted)
    run.failed = len(events) - len(accepted)
    if errors and not run.error:
        run.error = f"{len(errors)} of {len(events)} event(s) refused; first: {errors[0]}"
    elif run.error and accepted:
        run.error += f" ({len(accepted)} event(s) were published before)"
    _remember(engine, accepted, digests, now)
    _finish(engine, run, now)
    return run


def _remember(engine: Engine, accepted: list[str], digests: dict[str, str], now) -> None:
    gone = [entity_id for entity_id in accepted if digests[entity_id] == DELETED]
    kept = [BridgeRecord(engine=engine, entity_id=entity_id, digest=digests[entity_id],
                         published_at=now)
            for entity_id in accepted if digests[entity_id] != DELETED]
    if gone:
        BridgeRecord.objects.filter(engine=engine, entity_id__in=gone).delete()
    if kept:
        BridgeRecord.objects.bulk_create(kept, batch_size=500, update_conflicts=True,
                                         unique_fields=["engine", "entity_id"],
                                         update_fields=["digest", "published_at"])


def _finish(engine: Engine, run: BridgeRun, now) -> None:
    fields = {"bridge_last_run_at": now, "bridge_last_published": run.published}
    if run.error:
        log.warning("world-state bridge to engine %s: %s", engine.pk, run.error)
        fields.update(bridge_last_error=run.error[:500], bridge_last_error_at=now)
    Engine.objects.filter(pk=engine.pk).update(**fields)


def record_failure(engine_id: int, message: str) -> None:
    Engine.objects.filter(pk=engine_id).update(bridge_last_error=message[:500],
                                               bridge_last_error_at=timezone.now())


def on_apps_synced(sender, *, team_id: int, **_kwargs) -> None:
    """Receiver of apps.deployments.signals.apps_synced: the same publish as after a sweep (only
    changed entities, one batch). Nothing here may raise into the sync."""
    on_sweep_finished(sender, team_id=team_id)


def on_sweep_finished(sender, *, team_id: int, **_kwargs) -> None:
    """Receiver of apps.nodes.sweep.sweep_finished. Nothing here may raise into the sweep."""
    try:
        engines = list(Engine.objects.filter(team_id=team_id, bridge_enabled=True))
    except Exception:
        log.exception("world-state bridge: cannot read the engines of team %s", team_id)
        return
    for engine in engines:
        try:
            publish_fleet(engine)
        except Exception as error:
            log.exception("world-state bridge to engine %s crashed", engine.pk)
            try:
                record_failure(engine.pk, f"Panel error: {type(error).__name__}: {error}")
            except Exception:
                log.exception("world-state bridge: cannot record the failure")
