"""Hostile-engine faults of the double: what an untrusted engine (or an internal service behind
an engine URL) can answer. Off by default; a test switches one on with
`double.configure(fault=..., fault_path=...)` and `reset()` switches it off.

- `redirect`: 302 to `fault_location` (the panel must not follow it); `redirect_huge`: the same
  with a `fault_size` body (the panel must not read it).
- `error_page`: 500 with an HTML body holding `fault_body` (the panel must not echo it).
- `huge`: 200 JSON, chunked, `fault_size` bytes (default 300 MB) of a listing that never ends in
  time; `huge_declared`: the same with a Content-Length announcing it.
- `endless`: 200 JSON that never ends (until the client hangs up).
- `trickle`: 200 JSON, one byte every `fault_interval` seconds.
- `malformed:<shape>`: the real answer, decoded and bent into valid JSON of the wrong shape:
  `swap` (a list where an object belongs and the other way round), `swap_inner` (the same one
  level down: rows, results, connectors), `strings` (every number and boolean a string),
  `missing` (every object empty), `nulls` (every value null), `scalar` (a bare string),
  `deep` (arrays nested 100,000 levels: json.loads gives up), `deep_values` (properties nested
  500 levels: parseable, not showable), `surrogate` (every string a lone surrogate escape).

`fault_path` is a regular expression the request path must match in full (default: every REST
route; the WebSocket is never touched).
"""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

from tests.sim.worldstate_web import engine_of

SHAPES = ("swap", "swap_inner", "strings", "missing", "nulls", "scalar", "deep", "deep_values",
          "surrogate")
_FILLER = b'{"id":"filler/x","properties":{"pad":"' + b"x" * 4000 + b'"},"lastUpdated":null},'


@web.middleware
async def hostile_faults(request: web.Request, handler):
    options = engine_of(request).options
    fault = options.fault
    if not fault or request.path == "/api/ws" or not re.fullmatch(options.fault_path, request.path):
        return await handler(request)
    if fault == "redirect":
        return web.Response(status=302, headers={"Location": options.fault_location})
    if fault == "redirect_huge":
        return await _stream_body(request, options.fault_size, declared=False, status=302,
                                  headers={"Location": options.fault_location})
    if fault == "error_page":
        return web.Response(status=500, text=f"<html><body><h1>Internal</h1>{options.fault_body}"
                                             "</body></html>", content_type="text/html")
    if fault in ("huge", "huge_declared", "endless"):
        return await _stream_body(request, options.fault_size if fault != "endless" else None,
                                  declared=fault == "huge_declared")
    if fault == "trickle":
        return await _trickle(request, options.fault_interval)
    if fault.startswith("malformed:"):
        response = await handler(request)
        return _malformed(response, fault.partition(":")[2])
    raise ValueError(f"unknown fault {fault!r}")


async def _stream_body(request: web.Request, size: int | None, *, declared: bool, status: int = 200,
                       headers: dict | None = None) -> web.StreamResponse:
    response = web.StreamResponse(status=status, headers={"Content-Type": "application/json",
                                                          **(headers or {})})
    if declared and size is not None:
        response.content_length = size
    await response.prepare(request)
    sent = 0
    try:
        await response.write(b"[")
        while size is None or sent < size:
            await response.write(_FILLER * 16)
            sent += len(_FILLER) * 16
    except (ConnectionError, asyncio.CancelledError):
        return response  # the client hung up, as it should
    return response


async def _trickle(request: web.Request, interval: float) -> web.StreamResponse:
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    await response.prepare(request)
    try:
        for byte in b'{"connectors":[' + b" " * 10_000:
            await response.write(bytes([byte]))
            await asyncio.sleep(interval)
    except (ConnectionError, asyncio.CancelledError):
        pass
    return response


def _malformed(response: web.StreamResponse, shape: str) -> web.StreamResponse:
    if not isinstance(response, web.Response) or not 200 <= response.status < 300 \
            or response.body is None:
        return response
    try:
        value = json.loads(response.body)
    except ValueError:
        return response
    if shape == "deep":
        text = "[" * 100_000 + "]" * 100_000
    else:
        text = json.dumps(bend(value, shape))  # ensure_ascii: a lone surrogate stays an escape
    return web.Response(status=response.status, text=text, content_type="application/json")


def bend(value: Any, shape: str) -> Any:
    """The answer `value` in the wrong `shape` (see the module docstring)."""
    if shape == "swap":
        return _swap(value)
    if shape == "swap_inner":
        if isinstance(value, list):
            return [_swap(item) for item in value]
        if isinstance(value, dict):
            return {key: _swap(item) for key, item in value.items()}
        return value
    if shape == "strings":
        return _map_leaves(value, lambda leaf: str(leaf).lower()
                           if isinstance(leaf, (bool, int, float)) else leaf)
    if shape == "missing":
        if isinstance(value, dict):
            return {}
        return [bend(item, shape) for item in value] if isinstance(value, list) else value
    if shape == "nulls":
        if isinstance(value, dict):
            return dict.fromkeys(value)
        return [None for _ in value] if isinstance(value, list) else None
    if shape == "scalar":
        return "this is not the answer you are looking for"
    if shape == "deep_values":
        return _deep_properties(value)
    if shape == "surrogate":
        return _map_leaves(value, lambda leaf: "\ud800" if isinstance(leaf, str) else leaf)
    raise ValueError(f"unknown shape {shape!r}")


def _swap(value: Any) -> Any:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return {str(index): item for index, item in enumerate(value)}
    return value


def _map_leaves(value: Any, change) -> Any:
    if isinstance(value, dict):
        return {key: _map_leaves(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_leaves(item, change) for item in value]
    return change(value)


def _deep_properties(value: Any) -> Any:
    """Every `properties` object gets one value nested 500 levels deep; an answer without any
    (config, connectors) is wrapped in 500 arrays."""
    nested: Any = "bottom"
    for _ in range(500):
        nested = [nested]
    found = False

    def visit(item: Any) -> Any:
        nonlocal found
        if isinstance(item, dict):
            if isinstance(item.get("properties"), dict):
                found = True
                return {**item, "properties": {**item["properties"], "deep": nested}}
            return {key: visit(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [visit(inner) for inner in item]
        return item

    bent = visit(value)
    if not found:
        for _ in range(500):
            bent = [bent]
    return bent
