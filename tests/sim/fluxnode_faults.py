"""Hostile-node faults that shape the answer's bytes (issue 10 F5/F6): huge and drip.

- `huge`: a 300 MB answer (`mb`), streamed cheaply from one buffer; `declared=True` announces
  its Content-Length, `gzip=True` sends it as a small gzip bomb that only decodes to 300 MB.
- `drip`: one byte every 2 s (`interval_ms`) for ever, in the body (`phase="body"`, the default:
  headers at once, then an envelope that never closes) or in the headers (`phase="headers"`).
Both stop when the fault is cleared or the client goes away.
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import web

BODY_FAULTS = ("huge", "drip")
MIB = 1024 * 1024
_FILL = b"x" * MIB


def _gone(request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def serve(kind: str, request, node):
    params = node.fault_params
    try:
        if kind == "huge":
            return await _huge(request, node, int(params.get("mb", 300)),
                               bool(params.get("declared", False)), bool(params.get("gzip", False)))
        return await _drip(request, node, float(params.get("interval_ms", 2000)) / 1000,
                           str(params.get("phase", "body")))
    except (ConnectionError, RuntimeError):  # the client stopped reading: that is the point
        node.fleet.drop_connection(request)
        return web.Response(status=204)


async def _huge(request, node, mb: int, declared: bool, gzip: bool):
    head, tail = b'{"status":"success","data":"', b'"}'
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if gzip:
        headers["Content-Encoding"] = "gzip"
    response = web.StreamResponse(headers=headers)
    if declared and not gzip:
        response.content_length = len(head) + mb * MIB + len(tail)
    else:
        response.enable_chunked_encoding()
    await response.prepare(request)
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if gzip else None

    def pack(data: bytes) -> bytes:
        return packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH) if packer else data

    await response.write(pack(head))
    for _ in range(mb):
        if _gone(request) or node.release.is_set() and node.transport_fault != "huge":
            break
        await response.write(pack(_FILL))
    await response.write(pack(tail) + (packer.flush(zlib.Z_FINISH) if packer else b""))
    await response.write_eof()
    return response


async def _drip(request, node, interval: float, phase: str):
    release = node.release
    if phase == "headers":
        transport = request.transport
        transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Drip: ")
        while not _gone(request) and not release.is_set():
            transport.write(b"a")
            await _pause(release, interval)
        node.fleet.drop_connection(request)
        return web.Response(status=204)  # never reaches the client
    response = web.StreamResponse(headers={"Content-Type": "application/json; charset=utf-8"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b'{"status":"success","data":')
    while not _gone(request) and not release.is_set():
        await response.write(b" ")
        await _pause(release, interval)
    await response.write(b'"released"}')
    await response.write_eof()
    return response


async def _pause(release: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(release.wait(), seconds)
    except TimeoutError:
        pass
