"""Ingest and history handlers of the double: `POST /api/events`, `POST /api/events/batch`,
`GET /api/events` (§4.1–4.3).

The single-event pipeline keeps the engine's order: size → parse → validate → auth → rate →
publish; the first failure decides the answer.
"""
from __future__ import annotations

import time

from aiohttp import web

from tests.sim import worldstate_rules as rules
from tests.sim.worldstate_engine import Engine, PublishError
from tests.sim.worldstate_serde import (
    SerdeError,
    decode_batch,
    decode_event,
    parse_json,
    with_position,
)
from tests.sim.worldstate_web import Rejection, engine_of, error, json_body, plain, read_limited


class AuthFailure(Exception):
    def __init__(self, category: str, status: int, message: str):
        super().__init__(message)
        self.category, self.status, self.message = category, status, message


def authorize_event(engine: Engine, header: str | None, event: dict) -> None:
    """`authorize_event` of §6.2; raises AuthFailure. A no-op in internal mode."""
    if not engine.options.auth:
        return
    try:
        token = rules.parse_bearer(header)
    except ValueError as problem:
        raise AuthFailure("Invalid token", 401, str(problem)) from None
    entity_id = event["payload"].get("entity_id")
    if not isinstance(entity_id, str):
        raise AuthFailure("Invalid entity ID", 401, "Missing 'entity_id' field in payload")
    try:
        namespace = rules.parse_entity_id(entity_id)
    except rules.EntityIdError as problem:
        raise AuthFailure("Invalid entity ID", 401,
                          f"Failed to parse entity_id '{entity_id}': {problem.debug}") from None
    if namespace is None:
        raise AuthFailure("Invalid entity ID", 401, f"Entity ID '{entity_id}' missing namespace "
                          "prefix (expected 'namespace/entity' format)")
    owns = engine.token_owns(token, namespace)
    if owns is None:
        raise AuthFailure("Namespace not found", 401, f"Namespace '{namespace}' not found. "
                          "Get a namespace at flux-universe.com")
    if not owns:
        raise AuthFailure("Forbidden", 403, "Token does not have permission to write to "
                          f"namespace '{namespace}'")


def prepare(event: dict) -> str | None:
    """Validate, then fill a missing or empty eventId; returns the validation message if any."""
    problem = rules.validate_event(event)
    if problem is None and not event["eventId"]:
        event["eventId"] = rules.uuid7()
    return problem


async def _body_within(request: web.Request, limit_key: str) -> bytes:
    body = await read_limited(request)
    if len(body) > engine_of(request).config[limit_key]:
        raise Rejection(error(413, "payload too large"))
    return body


def _decode(body: bytes, decoder):
    text = body.decode("utf-8", "replace")
    try:
        value, text = parse_json(body)
        return decoder(value)
    except SerdeError as failure:
        raise Rejection(error(400, with_position(failure, text))) from None


async def publish_event(request: web.Request) -> web.Response:
    engine = engine_of(request)
    event = _decode(await _body_within(request, "body_size_limit_single_bytes"), decode_event)
    problem = prepare(event)
    if problem:
        return error(400, problem)
    try:
        authorize_event(engine, request.headers.get("Authorization"), event)
    except AuthFailure as failure:
        return error(failure.status, failure.message)
    if engine.options.auth and not engine.take_token(rules.rate_limit_key(event)):
        return error(429, "rate limit exceeded",
                     headers={"Retry-After": str(engine.options.retry_after)})
    try:
        engine.publish(event)
    except PublishError as failure:
        return error(500, str(failure))
    return json_body({"eventId": event["eventId"], "stream": event["stream"]})


async def publish_batch(request: web.Request) -> web.Response:
    """Per-item validate → auth → rate → publish; always 200 once the envelope parses (§4.2)."""
    engine = engine_of(request)
    events = _decode(await _body_within(request, "body_size_limit_batch_bytes"), decode_batch)
    if not events:
        return error(400, "Batch request must contain at least one event")
    header = request.headers.get("Authorization")
    results, successful = [], 0
    for event in events:
        problem = prepare(event)
        if problem:
            results.append(_item(None, event, f"validation failed: {problem}"))
            continue
        try:
            authorize_event(engine, header, event)
        except AuthFailure as failure:
            results.append(_item(event["eventId"], event,
                                 f"authorization failed: {failure.category}: {failure.message}"))
            continue
        if engine.options.auth and not engine.take_token(rules.rate_limit_key(event)):
            results.append(_item(event["eventId"], event, "rate limit exceeded"))
            continue
        try:
            engine.publish(event)
        except PublishError as failure:
            results.append(_item(event["eventId"], event, f"publish failed: {failure}"))
            continue
        successful += 1
        results.append(_item(event["eventId"], event, None))
    return json_body({"successful": successful, "failed": len(events) - successful,
                      "results": results})


def _item(event_id: str | None, event: dict, problem: str | None) -> dict:
    return {"eventId": event_id, "stream": event["stream"], "error": problem}


def _query_usize(request: web.Request, name: str) -> int | None:
    """serde_urlencoded into Option<usize>; a bad value is axum's plain-text 400."""
    if name not in request.query:
        return None
    text = request.query[name]
    digits = text[1:] if text.startswith("+") else text
    if not digits:
        reason = "cannot parse integer from empty string"
    elif not digits.isascii() or not digits.isdigit():
        reason = "invalid digit found in string"
    elif int(digits) >= 2**64:
        reason = "number too large to fit in target type"
    else:
        return int(digits)
    raise Rejection(plain(400, f"Failed to deserialize query string: {reason}"))


async def get_events(request: web.Request) -> web.Response:
    engine = engine_of(request)
    limit = _query_usize(request, "limit")
    entity_id = request.query.get("entity")
    if entity_id is None:
        return error(400, "entity parameter is required")
    since_text = request.query.get("since")
    if since_text is None:
        since_s = int(time.time()) - 24 * 3600
    else:
        since = rules.parse_rfc3339(since_text)
        if since is None:
            return error(400, "invalid `since` timestamp (expected ISO 8601)")
        since_s = int(since.timestamp() // 1)  # JetStream start time, whole seconds
    limit = min(max(100 if limit is None else limit, 1), 500)
    return json_body(engine.events_for(entity_id, since_s, limit))
