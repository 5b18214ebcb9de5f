"""What pages read of the panel's copy (apps/worldstate/live_store.py writes it).

The copy is used only while it is live: a subscriber holds the engine's lease (its beat is
younger than the lease time) and its connection is up. Otherwise pages read the engine as they
always did, and say that live updates are off and why.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.worldstate.answers import Entity
from apps.worldstate.models import ENTITY_ID_MAX, Engine, EngineLive, LiveEntity, LiveUpdate

STREAM_ROWS = 100  # the live stream page shows this many recent lines


@dataclass(frozen=True)
class LiveStatus:
    on: bool
    text: str  # a sentence for the page
    live: EngineLive | None

    @property
    def version(self) -> int:
        return self.live.version if self.live else 0


def status(engine: Engine) -> LiveStatus:
    """Pages fetch the engine with select_related("live"), so this costs no query of its own."""
    try:
        live = engine.live
    except EngineLive.DoesNotExist:
        live = None
    fresh = timezone.now() - timedelta(seconds=settings.WORLDSTATE_LEASE_SECONDS)
    if live is None or not live.holder or live.beat_at is None or live.beat_at < fresh:
        return LiveStatus(False, "Live updates are off: no subscriber is running "
                                 "(manage.py worldstate_subscribe); this page reads the engine.", live)
    if live.state != EngineLive.State.LIVE:
        why = f" ({live.reason})" if live.reason else ""
        return LiveStatus(False, f"Live updates are off: the subscriber is "
                                 f"{live.get_state_display()}{why}; this page reads the engine.", live)
    return LiveStatus(True, "Live: the panel's copy, kept by the engine's WebSocket.", live)


def entity(engine: Engine, entity_id: str) -> tuple[bool, Entity | None]:
    """(usable, entity) from the copy. Not usable: an id or value the copy does not hold, so
    the page reads the engine. An absent row of a live copy is an absent entity."""
    if len(entity_id) > ENTITY_ID_MAX:
        return False, None
    row = LiveEntity.objects.filter(engine=engine, entity_id=entity_id).first()
    if row is None:
        return True, None
    if not row.copied:
        return False, None
    return True, Entity(row.entity_id, row.properties, row.last_updated)


def entity_rows(engine: Engine, prefix: str):
    """The copy's entities as the engine's listing dicts, sorted by id (a queryset: the page
    slices one page of it)."""
    rows = LiveEntity.objects.filter(engine=engine).order_by("entity_id")
    if prefix:
        rows = rows.filter(entity_id__startswith=prefix)
    return rows


def as_listing(row: LiveEntity) -> dict:
    return {"id": row.entity_id, "properties": row.properties if row.copied else {},
            "lastUpdated": row.last_updated.isoformat() if row.last_updated else None}


def recent(engine: Engine, prefix: str = "", limit: int = STREAM_ROWS) -> list[LiveUpdate]:
    """The newest lines of the log, newest first; resync summaries show whatever the prefix."""
    rows = LiveUpdate.objects.filter(engine=engine)
    if prefix:
        rows = rows.filter(entity_id__startswith=prefix) | rows.filter(kind=LiveUpdate.Kind.RESYNC)
    return list(rows.order_by("-seq")[:limit])


def entity_updates(engine: Engine, entity_id: str, limit: int = 20) -> list[LiveUpdate]:
    return list(LiveUpdate.objects.filter(engine=engine, entity_id=entity_id).order_by("-seq")[:limit])
