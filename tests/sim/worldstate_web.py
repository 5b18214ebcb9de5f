"""Response helpers shared by the double's handlers: the engine's JSON errors and axum's
framework-level rejections (plain text, or empty bodies for 404/405), see §3.1.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.sim import worldstate_rules as rules
from tests.sim.worldstate_serde import SerdeError, parse_json, with_position

ENGINE_KEY: web.AppKey = web.AppKey("worldstate_engine")


def engine_of(request: web.Request):
    return request.app[ENGINE_KEY]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_body(value: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(text=dumps(value), status=status, headers=headers,
                        content_type="application/json")


def raw_json(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/json")


def error(status: int, message: str, headers: dict | None = None) -> web.Response:
    return json_body({"error": message}, status, headers)


def plain(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message, content_type="text/plain", charset="utf-8")


def empty(status: int) -> web.Response:
    return web.Response(status=status)


class Rejection(Exception):
    """An early answer (size, parse, auth) that ends a handler."""

    def __init__(self, response: web.Response):
        super().__init__(response.status)
        self.response = response


@web.middleware
async def framework_rejections(request: web.Request, handler):
    """Unknown path: 404 with an empty body; known path, wrong method: 405, empty (§3.1)."""
    try:
        return await handler(request)
    except Rejection as rejection:
        return rejection.response
    except web.HTTPMethodNotAllowed:
        return empty(405)
    except web.HTTPNotFound:
        return empty(404)


async def read_limited(request: web.Request) -> bytes:
    """The body, or axum's plain-text 413 for anything over its 2 MiB default."""
    if (request.content_length or 0) > rules.AXUM_BODY_LIMIT:
        raise Rejection(plain(413, "Failed to buffer the request body: length limit exceeded"))
    body = await request.read()
    if len(body) > rules.AXUM_BODY_LIMIT:
        raise Rejection(plain(413, "Failed to buffer the request body: length limit exceeded"))
    return body


def _is_json_content_type(value: str) -> bool:
    mime = value.split(";", 1)[0].strip().lower()
    kind, _, subtype = mime.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def typed_json(request: web.Request, decode: Callable[[Any], Any]) -> Any:
    """axum's `Json<T>` extractor: 415, 413, 400 (syntax) or 422 (shape), all plain text."""
    if not _is_json_content_type(request.headers.get("Content-Type", "")):
        raise Rejection(plain(415, "Expected request with `Content-Type: application/json`"))
    body = await read_limited(request)
    text = body.decode("utf-8", "replace")
    try:
        value, text = parse_json(body)
    except SerdeError as failure:
        raise Rejection(plain(400, "Failed to parse the request body as JSON: "
                              + with_position(failure, text))) from None
    try:
        return decode(value)
    except SerdeError as failure:
        raise Rejection(plain(422, "Failed to deserialize the JSON body into the target type: "
                              + with_position(failure, text, with_path=True))) from None


def admin_ok(request: web.Request) -> bool:
    """Exact `Bearer <FLUX_ADMIN_TOKEN>`; open when no admin token is configured (§6.5)."""
    expected = engine_of(request).options.admin_token
    if expected is None:
        return True
    header = request.headers.get("Authorization")
    if header is None or not rules.is_header_text(header):
        return False
    return header.startswith("Bearer ") and header[len("Bearer "):] == expected
