"""An app's spec history: FluxOS's permanent messages for it, and what changed between versions.

The messages come from the team's sources (`sources.team_sources`), tried in order; a source that
fails is shown with its human reason and the next one is asked. Sources are untrusted: the answer
must be a list of messages with a numeric height and a spec object, anything else is skipped.
The result is cached 60 s per team and app, so opening the tab again asks nobody.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from django.core.cache import cache

from apps.deployments.sources import team_sources
from fluxpanel.fluxos.client import FluxClientError

log = logging.getLogger(__name__)

CACHE_SECONDS = 60
MAX_MESSAGES = 500
MAX_HEIGHT = 10**9
VALUE_CHARS = 200
NONE = "(none)"
# A page waits for this: shorter than sync's source bounds, and all sources together are bounded.
SOURCE_TIMEOUT = (3.0, 8.0)
SOURCE_DEADLINE_S = 10.0
TOTAL_BUDGET_S = 20.0


def cache_key(team, app_name: str) -> str:
    return f"deployments:history:{team.pk}:{app_name.lower()}"


def app_history(team, app_name: str) -> dict:
    """`{"versions": [...newest first], "errors": [...], "source": label, "cached": bool}`."""
    key = cache_key(team, app_name)
    cached = cache.get(key)
    if cached is not None:
        return {**cached, "cached": True}
    result = fetch_history(team, app_name)
    cache.set(key, result, CACHE_SECONDS)
    return {**result, "cached": False}


def fetch_history(team, app_name: str) -> dict:
    errors: list[str] = []
    sources = team_sources(team)
    if not sources:
        errors.append("No source to ask: the team has no confirmed node and no gateway configured.")
    started = time.monotonic()
    for index, source in enumerate(sources):
        if time.monotonic() - started > TOTAL_BUDGET_S:
            errors.append(f"{len(sources) - index} more source(s) not asked: the page waited "
                          f"{TOTAL_BUDGET_S:.0f} s already")
            break
        try:
            client = source.client(timeout=SOURCE_TIMEOUT, deadline_s=SOURCE_DEADLINE_S)
            answer = client.app_permanent_messages(app_name)
            messages, skipped = validate_messages(answer, app_name)
        except FluxClientError as exc:
            errors.append(f"{source.label}: {exc.message}")
            continue
        except ValueError as exc:
            errors.append(f"{source.label}: {exc}")
            continue
        except Exception:  # one bad peer never fails the page
            log.exception("permanent messages of %s from %s", app_name, source.label)
            errors.append(f"{source.label}: could not be read")
            continue
        if skipped:
            errors.append(f"{source.label}: {skipped} malformed message(s) skipped")
        return {"versions": versions_with_diffs(messages), "errors": errors, "source": source.label}
    return {"versions": [], "errors": errors, "source": ""}


def validate_messages(answer, app_name: str) -> tuple[list[dict], int]:
    """The usable messages sorted by height (oldest first), and how many were skipped.

    Raises ValueError when the answer is not a list of messages at all."""
    if not isinstance(answer, list):
        raise ValueError("not a FluxOS answer (expected a list of messages)")
    messages, skipped = [], 0
    for item in answer[:MAX_MESSAGES]:
        message = _message(item, app_name)
        if message is None:
            skipped += 1
        else:
            messages.append(message)
    skipped += max(0, len(answer) - MAX_MESSAGES)
    messages.sort(key=lambda m: (m["height"], m["timestamp_ms"] or 0))
    return messages, skipped


def _message(item, app_name: str) -> dict | None:
    if not isinstance(item, dict):
        return None
    height = item.get("height")
    if isinstance(height, bool) or not isinstance(height, int) or not 0 <= height < MAX_HEIGHT:
        return None
    spec = item.get("appSpecifications", item.get("appSpecification"))
    if not isinstance(spec, dict):
        return None
    name = spec.get("name")
    if isinstance(name, str) and name.lower() != app_name.lower():
        return None  # a source answering another app's messages
    stamp = item.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not 0 < stamp < 10**14:
        stamp = None
    kind = item.get("type")
    text_hash = item.get("hash")
    return {
        "height": height, "spec": spec, "timestamp_ms": stamp,
        "timestamp": datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else None,
        "type": kind[:40] if isinstance(kind, str) else "",
        "hash": text_hash[:64] if isinstance(text_hash, str) else "",
    }


def versions_with_diffs(messages: list[dict]) -> list[dict]:
    """Each message with its diff against the one before it; newest first."""
    versions = []
    previous = None
    for message in messages:
        flat = flatten_spec(message["spec"])
        entry = {k: v for k, v in message.items() if k != "spec"}
        entry["first"] = previous is None
        entry["diff"] = [] if previous is None else diff_flat(previous, flat)
        versions.append(entry)
        previous = flat
    versions.reverse()
    return versions


def _text(value) -> str:
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def flatten_spec(spec: dict) -> dict[str, str]:
    """`{"name": "a", "compose[web].cpu": "1", …}`: compose components keyed by their name."""
    flat: dict[str, str] = {}
    for key, value in spec.items():
        if key == "compose" and isinstance(value, list):
            for index, component in enumerate(value):
                if not isinstance(component, dict):
                    flat[f"compose[{index}]"] = _text(component)
                    continue
                label = component.get("name")
                label = label if isinstance(label, str) and label else str(index)
                for field, field_value in component.items():
                    flat[f"compose[{label}].{field}"] = _text(field_value)
        else:
            flat[str(key)] = _text(value)
    return flat


def diff_flat(old: dict[str, str], new: dict[str, str]) -> list[dict]:
    """Changed, added and removed fields, in the new version's order, then the removed ones."""
    lines = []
    for path, value in new.items():
        before = old.get(path, NONE)
        if before != value:
            lines.append({"path": path, "old": before, "new": value})
    for path, value in old.items():
        if path not in new:
            lines.append({"path": path, "old": value, "new": NONE})
    return lines


def diff_specs(old: dict, new: dict) -> list[str]:
    """Readable lines (`compose[web].cpu: 1 → 2`) between two specs."""
    return [f"{line['path']}: {line['old']} → {line['new']}" for line in diff_flat(flatten_spec(old), flatten_spec(new))]
