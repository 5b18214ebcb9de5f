"""Writing the panel's copy of an engine: the lease, live messages, resyncs, the bounded log.

Only the subscriber (apps/worldstate/subscriber.py) writes here. Every write runs in one
transaction that first locks the engine's EngineLive row and checks that the writer still holds
the lease, so a subscriber that lost its engine to another one (it went silent) can never write
over the new holder's copy.

The engine's messages are untrusted: a message of the wrong shape is skipped, an id over
ENTITY_ID_MAX is not copied (its page keeps reading the engine), and a value the database cannot
store (NUL characters, non-finite numbers, nested past the panel's depth) marks the entity
`copied=False` so its page reads the engine too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.worldstate import live_redis
from apps.worldstate.answers import parse_timestamp, value_problem
from apps.worldstate.models import ENTITY_ID_MAX, EngineLive, LiveEntity, LiveUpdate

PROPERTY_SHOWN_MAX = 200  # LiveUpdate.property: longer names are cut for the log only
METRIC_KEYS = {"entities": ("total",), "events": ("total", "rate_per_second"),
               "websocket": ("connections",), "publishers": ("active",)}
ITEMISED_RESYNC_ROWS = 500  # a resync logs at most this many property changes, then a summary
MISSING = object()
NOT_COPIED = "a value the panel cannot store (its page reads the engine)"


class LeaseLost(Exception):
    """Another subscriber holds this engine now; stop without writing."""


# ---- the lease ---------------------------------------------------------------------------------


def claim(engine_id: int, holder: str, now: datetime | None = None) -> bool:
    """Take or renew the engine's lease: free, ours, or its holder silent for the lease time."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.WORLDSTATE_LEASE_SECONDS)
    try:
        EngineLive.objects.get_or_create(engine_id=engine_id)
    except IntegrityError:  # another subscriber made the row at the same moment
        pass
    return EngineLive.objects.filter(engine_id=engine_id).filter(
        Q(holder=holder) | Q(holder="") | Q(beat_at__isnull=True) | Q(beat_at__lt=stale),
    ).update(holder=holder, beat_at=now) == 1


def release(engine_id: int, holder: str) -> None:
    EngineLive.objects.filter(engine_id=engine_id, holder=holder).update(
        holder="", beat_at=None, state=EngineLive.State.STOPPED)


def set_state(engine_id: int, holder: str, state: str, *, reason: str | None = None,
              connected: bool = False) -> None:
    with transaction.atomic():
        live = _locked(engine_id, holder)
        live.state = state
        fields = ["state"]
        if reason is not None:
            live.reason, live.reason_at = reason[:500], timezone.now()
            fields += ["reason", "reason_at"]
        if connected:
            live.connected_at = timezone.now()
            live.reconnects += 1
            fields += ["connected_at", "reconnects"]
        live.save(update_fields=fields)


def _locked(engine_id: int, holder: str) -> EngineLive:
    """Lock the engine's row for this transaction, if the lease is still ours (a write doubles as
    a beat). An UPDATE first, not SELECT … FOR UPDATE: on SQLite a transaction that starts by
    reading cannot always become a writer later ("database is locked" at once, without waiting)."""
    if not EngineLive.objects.filter(engine_id=engine_id, holder=holder).update(beat_at=timezone.now()):
        raise LeaseLost(engine_id)
    return EngineLive.objects.get(engine_id=engine_id)


# ---- values the copy can hold ------------------------------------------------------------------


def storable(value: Any) -> bool:
    """Can both databases store this JSON value as it is (PostgreSQL's jsonb refuses NUL and
    neither takes NaN/Infinity), and can the pages show it (value_problem)?"""
    if value_problem(value) is not None:
        return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _metrics(message: dict) -> dict | None:
    """The numbers of a metrics_update (§5), each a finite non-negative number, or None."""
    shown: dict[str, dict] = {}
    for group, keys in METRIC_KEYS.items():
        part = message.get(group)
        if not isinstance(part, dict):
            return None
        shown[group] = {}
        for key in keys:
            number = part.get(key)
            if isinstance(number, bool) or not isinstance(number, int | float) \
                    or not math.isfinite(number) or not 0 <= number < 2**64:
                return None
            shown[group][key] = number
    return shown


# ---- applying a batch of live messages ---------------------------------------------------------


@dataclass
class _Copy:
    """The entities a batch touches, as they will be written back."""

    rows: dict[str, LiveEntity] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)


def apply_messages(engine_id: int, holder: str, messages: list[dict]) -> int:
    """Apply state_update / entity_deleted / metrics_update messages in order; returns the new
    version. Anything else (or of the wrong shape) is skipped."""
    now = timezone.now()
    with transaction.atomic():
        live = _locked(engine_id, holder)
        ids = {m["entity_id"] for m in messages
               if isinstance(m.get("entity_id"), str) and len(m["entity_id"]) <= ENTITY_ID_MAX}
        copy = _Copy(rows={row.entity_id: row for row in
                           LiveEntity.objects.filter(engine_id=engine_id, entity_id__in=ids)})
        log: list[LiveUpdate] = []
        seq = live.version
        for message in messages:
            kind = message.get("type")
            if kind == "metrics_update":
                metrics = _metrics(message)
                if metrics is not None:
                    live.metrics, live.metrics_at = metrics, now
                continue
            entity_id = message.get("entity_id")
            if not isinstance(entity_id, str) or len(entity_id) > ENTITY_ID_MAX \
                    or not storable(entity_id):
                continue
            at = parse_timestamp(message.get("timestamp")) or now
            if kind == "state_update":
                row = _update(engine_id, copy, entity_id, message, at)
                if row is None:
                    continue
                seq += 1
                old, new = row
                log.append(LiveUpdate(engine_id=engine_id, seq=seq, entity_id=entity_id,
                                      property_name=message["property"][:PROPERTY_SHOWN_MAX],
                                      old=None if old is MISSING else old, had_old=old is not MISSING,
                                      new=new, at=at,
                                      note="" if copy.rows[entity_id].copied else NOT_COPIED))
            elif kind == "entity_deleted":
                copy.deleted.add(entity_id)
                copy.changed.discard(entity_id)
                copy.rows.pop(entity_id, None)
                seq += 1
                log.append(LiveUpdate(engine_id=engine_id, seq=seq, kind=LiveUpdate.Kind.DELETED,
                                      entity_id=entity_id, at=at))
        for row in copy.rows.values():
            if row.entity_id in copy.changed:
                row.version = seq
        _write(engine_id, copy)
        LiveUpdate.objects.bulk_create(log)
        live.version = seq
        live.save(update_fields=["version", "metrics", "metrics_at"])
        _trim(engine_id, seq, before=len(log))
        transaction.on_commit(lambda: live_redis.mirror(engine_id, seq, log))
    return seq


def _update(engine_id: int, copy: _Copy, entity_id: str, message: dict, at: datetime):
    """One state_update on the copy: (old value or MISSING, new value), or None to skip it."""
    name = message.get("property")
    if not isinstance(name, str) or "value" not in message or not storable(name):
        return None
    value = message["value"]
    row = copy.rows.get(entity_id)
    if row is None:
        row = copy.rows[entity_id] = LiveEntity(engine_id=engine_id, entity_id=entity_id,
                                                properties={})
    copy.deleted.discard(entity_id)
    copy.changed.add(entity_id)
    row.last_updated = at
    if not storable(value):
        row.copied = False
        return MISSING, None
    old = row.properties.get(name, MISSING)
    row.properties[name] = value
    return old, value


def _write(engine_id: int, copy: _Copy) -> None:
    if copy.deleted:
        LiveEntity.objects.filter(engine_id=engine_id, entity_id__in=copy.deleted).delete()
    changed = [row for row in copy.rows.values() if row.entity_id in copy.changed]
    for row in changed:
        if not row.copied:
            row.properties = {}
    if changed:
        LiveEntity.objects.bulk_create(
            changed, update_conflicts=True, unique_fields=["engine", "entity_id"],
            update_fields=["properties", "last_updated", "version", "copied"])


def _trim(engine_id: int, seq: int, *, before: int) -> None:
    """Keep the newest WORLDSTATE_LIVE_LOG_ROWS lines; checked about every 100 lines written."""
    keep = settings.WORLDSTATE_LIVE_LOG_ROWS
    if seq > keep and (seq // 100) != ((seq - before) // 100):
        LiveUpdate.objects.filter(engine_id=engine_id, seq__lte=seq - keep).delete()


# ---- resync from the REST listing after a (re)connect ------------------------------------------


def resync(engine_id: int, holder: str, listing: list[dict]) -> tuple[int, int]:
    """Make the copy equal to the engine's listing (what a disconnect may have hidden) and log
    what differed: property changes and deletions, via "resync". Returns (changed, deleted)."""
    now = timezone.now()
    with transaction.atomic():
        live = _locked(engine_id, holder)
        existing = {entity_id: (properties, copied) for entity_id, properties, copied in
                    LiveEntity.objects.filter(engine_id=engine_id)
                    .values_list("entity_id", "properties", "copied")}
        seq, log, upserts, itemised = live.version, [], [], 0
        seen = set()
        for item in listing:
            entity_id = item.get("id")
            properties = item.get("properties")
            if not isinstance(entity_id, str) or len(entity_id) > ENTITY_ID_MAX \
                    or not isinstance(properties, dict) or not storable(entity_id):
                continue
            seen.add(entity_id)
            copied = storable(properties)
            old_properties, old_copied = existing.get(entity_id, ({}, True))
            if entity_id in existing and old_properties == (properties if copied else {}) \
                    and old_copied == copied:
                continue
            at = parse_timestamp(item.get("lastUpdated")) or now
            for name in sorted(set(properties) | set(old_properties)) if copied else ():
                new, old = properties.get(name, MISSING), old_properties.get(name, MISSING)
                if new == old or new is MISSING or itemised >= ITEMISED_RESYNC_ROWS:
                    continue
                itemised += 1
                seq += 1
                log.append(LiveUpdate(engine_id=engine_id, seq=seq, via=LiveUpdate.Via.RESYNC,
                                      entity_id=entity_id, property_name=name[:PROPERTY_SHOWN_MAX],
                                      old=None if old is MISSING else old,
                                      had_old=old is not MISSING, new=new, at=at))
            upserts.append(LiveEntity(engine_id=engine_id, entity_id=entity_id,
                                      properties=properties if copied else {}, copied=copied,
                                      last_updated=parse_timestamp(item.get("lastUpdated")),
                                      version=seq + 1))
        gone = sorted(set(existing) - seen)
        for entity_id in gone[:ITEMISED_RESYNC_ROWS]:
            seq += 1
            log.append(LiveUpdate(engine_id=engine_id, seq=seq, kind=LiveUpdate.Kind.DELETED,
                                  via=LiveUpdate.Via.RESYNC, entity_id=entity_id, at=now))
        seq += 1
        log.append(LiveUpdate(engine_id=engine_id, seq=seq, kind=LiveUpdate.Kind.RESYNC,
                              via=LiveUpdate.Via.RESYNC, entity_id="", at=now,
                              note=f"resynced {len(seen)} entities from the REST API: "
                                   f"{len(upserts)} changed, {len(gone)} deleted"))
        if gone:
            LiveEntity.objects.filter(engine_id=engine_id, entity_id__in=gone).delete()
        for row in upserts:
            row.version = seq
        LiveEntity.objects.bulk_create(
            upserts, batch_size=500, update_conflicts=True, unique_fields=["engine", "entity_id"],
            update_fields=["properties", "last_updated", "version", "copied"])
        LiveUpdate.objects.bulk_create(log, batch_size=500)
        live.version, live.synced_at = seq, now
        live.save(update_fields=["version", "synced_at"])
        _trim(engine_id, seq, before=len(log))
        transaction.on_commit(lambda: live_redis.mirror(engine_id, seq, log))
    return len(upserts), len(gone)
