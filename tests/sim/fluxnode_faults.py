"""Hostile-node faults that shape the answer's bytes (issue 10 F5/F6): huge and drip.

- `huge`: a 300 MB answer (`mb`), streamed cheaply from one buffer; `declared=True` announces
  its Content-Length, `gzip=True` sends it as a small gzip bomb that only decodes to 300 MB.
- `drip`: one byte every 2 s (`interval_ms`) for ever, in the body (`phase="body"`, the default:
  headers at once, then an envelope that never closes) or in the headers (`phase="headers"`).
Both stop when the fault is cleared or the client goes away.

Transfer faults, only on file downloads (downloadlocalfile, downloadfile) and fileupload, kept
in the node's `extra_faults` so clear_faults() ends them like every other fault:
- `cut`: a download announces its whole Content-Length, sends `after_bytes` and drops the
  connection; an upload is dropped once `after_bytes` of its file have arrived.
- `stall`: a download sends `after_bytes`, then nothing, without closing, until the client gives
  up or the fault is cleared.
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import web

BODY_FAULTS = ("huge", "drip")
TRANSFER_FAULTS = ("cut", "stall")
STALL_POLL_S = 0.05
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


# --------------------------------------------------------------------------- transfer faults


def set_transfer_fault(node, kind: str, **params) -> None:
    """Arm `cut` or `stall` on a node (SimFleet.inject and the `/_sim/…/fault` route call this)."""
    if kind not in TRANSFER_FAULTS:
        raise ValueError(f"unknown transfer fault {kind!r}")
    after = params.get("after_bytes", 0)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise ValueError("after_bytes is a byte count")
    for other in TRANSFER_FAULTS:
        node.extra_faults.pop(other, None)
    node.extra_faults[kind] = {"after_bytes": after}
    if node.release.is_set():  # a fresh event, so clearing the fault ends a stall
        node.release = asyncio.Event()
    node.cache.clear()


def transfer_fault(node) -> tuple[str, int] | None:
    """(kind, after_bytes) of the armed transfer fault, if any."""
    for kind in TRANSFER_FAULTS:
        params = node.extra_faults.get(kind)
        if params is not None:
            return kind, int(params.get("after_bytes", 0))
    return None


async def end_transfer(kind: str, request, node) -> None:
    """After the first `after_bytes`: drop at once (cut), or stay silent first (stall)."""
    if kind == "stall":
        release = node.release
        while not _gone(request) and not release.is_set():
            await _pause(release, STALL_POLL_S)
    node.fleet.drop_connection(request)
