"""The recent-updates log mirrored to Redis when REDIS_URL is set, so the live stream page can
show the newest lines without reading them from the database.

Per engine: `<prefix>:<engine>:version` (the copy's version those lines belong to) and
`<prefix>:<engine>:lines` (the newest STREAM_ROWS lines, newest first, as JSON with values
already cut for display). Redis is a cache here: the database stays the truth, a page uses the
mirror only when its version equals the database's, and a Redis failure costs a log line, never
an update.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

from django.conf import settings

from apps.worldstate.live_read import STREAM_ROWS
from apps.worldstate.models import LiveUpdate

log = logging.getLogger(__name__)

KEY_PREFIX = "fluxpanel:worldstate"
KEEP_SECONDS = 7 * 24 * 3600
_clients: dict[str, object] = {}


def _redis():
    if not settings.REDIS_URL:
        return None
    client = _clients.get(settings.REDIS_URL)
    if client is None:
        import redis

        client = _clients[settings.REDIS_URL] = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client


def _keys(engine_id: int) -> tuple[str, str]:
    return f"{KEY_PREFIX}:{engine_id}:version", f"{KEY_PREFIX}:{engine_id}:lines"


def mirror(engine_id: int, version: int, lines: list[LiveUpdate]) -> None:
    """Called after the database transaction committed."""
    client = _redis()
    if client is None:
        return
    version_key, lines_key = _keys(engine_id)
    shown = [json.dumps({"seq": line.seq, "kind": line.kind, "via": line.via,
                         "entity_id": line.entity_id, "property_name": line.property_name,
                         "old_text": line.old_text, "new_text": line.new_text,
                         "had_old": line.had_old, "note": line.note, "at": line.at.isoformat()})
             for line in lines[-STREAM_ROWS:]]
    try:
        pipe = client.pipeline()
        if shown:
            pipe.lpush(lines_key, *shown)
            pipe.ltrim(lines_key, 0, STREAM_ROWS - 1)
            pipe.expire(lines_key, KEEP_SECONDS)
        pipe.set(version_key, version, ex=KEEP_SECONDS)
        pipe.execute()
    except Exception as error:  # a cache failure never stops the subscription
        log.warning("could not mirror engine %s's updates to Redis (%s)", engine_id,
                    type(error).__name__)


class MirroredLine:
    """A line read back from Redis, with the attributes the stream template uses."""

    def __init__(self, data: dict):
        self.__dict__.update(data)
        self.at = datetime.fromisoformat(data["at"])


def recent(engine_id: int, version: int) -> list[MirroredLine] | None:
    """The newest lines when the mirror is at `version`, else None (read the database)."""
    client = _redis()
    if client is None:
        return None
    version_key, lines_key = _keys(engine_id)
    try:
        pipe = client.pipeline()
        pipe.get(version_key)
        pipe.lrange(lines_key, 0, STREAM_ROWS - 1)
        mirrored, lines = pipe.execute()
    except Exception:
        return None
    if mirrored is None or int(mirrored) != version:
        return None
    return [MirroredLine(json.loads(line)) for line in lines]
