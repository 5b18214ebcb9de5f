"""HTTP details of a simulated node that FluxOS gets from Express and its middleware.

- compression() (expressjs/compression 1.8, first middleware in lib/fluxServer.js): a reply is
  gzip-encoded (deflate when only that is accepted) when the client accepts it, its Content-Type is
  compressible (JSON, text; not zip/gzip/octet-stream, and *no* Content-Type is never compressed)
  and it is at least 1 kB, or has no length at all (a streamed reply). Compressing drops the
  Content-Length (the reply goes out chunked) and adds `Vary: Accept-Encoding`. FluxOS calls
  `res.flush()` after every write of a stream, so each piece leaves at once (Z_SYNC_FLUSH here).
- res.write without a Content-Type (backup tasks, a failed download's error envelope) sends no
  Content-Type header at all, which aiohttp would otherwise fill in.
"""

from __future__ import annotations

import mimetypes
import zlib

from aiohttp import web

THRESHOLD = 1024
_COMPRESSIBLE_PREFIXES = ("text/", "application/json", "application/javascript",
                          "application/xml", "application/x-yaml", "application/yaml",
                          "image/svg+xml")


def negotiated(request) -> str | None:
    """The encoding compression() picks for this request: gzip first, then deflate."""
    accepted = {part.split(";")[0].strip().lower()
                for part in request.headers.get("Accept-Encoding", "").split(",")}
    if "gzip" in accepted or "*" in accepted:
        return "gzip"
    if "deflate" in accepted:
        return "deflate"
    return None


def compressible(content_type: str | None) -> bool:
    if not content_type:
        return False
    kind = content_type.split(";")[0].strip().lower()
    return kind.startswith(_COMPRESSIBLE_PREFIXES) or kind.endswith("+json")


def content_type_for(filename: str) -> str:
    """What res.download (send → mime) labels a file with."""
    guessed, _ = mimetypes.guess_type(filename)
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") or guessed == "application/json":
        return f"{guessed}; charset=UTF-8"
    return guessed


def _compressor(encoding: str):
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, wbits)


class BareResponse(web.StreamResponse):
    """A StreamResponse that can go out without any Content-Type (like a bare res.write)."""

    no_content_type = False

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        if self.no_content_type:
            self._headers.pop("Content-Type", None)


class NodeStream:
    """A streamed reply written piece by piece, compressed and flushed like FluxOS's."""

    def __init__(self, request, content_type: str | None, *, status: int = 200,
                 headers: dict | None = None):
        self.request = request
        self.response = BareResponse(status=status, headers=headers or {})
        if content_type:
            self.response.headers["Content-Type"] = content_type
        else:
            self.response.no_content_type = True
        self.encoding = negotiated(request) if compressible(content_type) else None
        self._zip = _compressor(self.encoding) if self.encoding else None
        if self.encoding:
            self.response.headers["Content-Encoding"] = self.encoding
            self.response.headers["Vary"] = "Accept-Encoding"
        self.response.enable_chunked_encoding()

    async def start(self) -> NodeStream:
        await self.response.prepare(self.request)
        return self

    async def write(self, data: bytes) -> None:
        if self._zip is not None:
            data = self._zip.compress(data) + self._zip.flush(zlib.Z_SYNC_FLUSH)
        if data:
            await self.response.write(data)

    async def end(self) -> web.StreamResponse:
        if self._zip is not None:
            await self.response.write(self._zip.flush(zlib.Z_FINISH))
        await self.response.write_eof()
        return self.response


async def finish(request, response):
    """Apply compression() to a complete reply (web.Response with a bytes body)."""
    if not isinstance(response, web.Response) or response.prepared:
        return response
    body = response.body
    if not isinstance(body, (bytes, bytearray)):
        return response
    content_type = response.headers.get("Content-Type") if not getattr(
        response, "no_content_type", False) else None
    encoding = negotiated(request) if compressible(content_type) else None
    if encoding is None or len(body) < THRESHOLD:
        return response
    headers = {key: value for key, value in response.headers.items()
               if key.lower() not in ("content-length", "content-type")}
    stream = NodeStream(request, content_type, status=response.status, headers=headers)
    await stream.start()
    await stream.write(bytes(body))
    return await stream.end()


async def bare(request, body: bytes, *, status: int = 200) -> web.StreamResponse:
    """`res.write(text); res.end()` with no Content-Type: never compressed, no type header."""
    stream = NodeStream(request, None, status=status)
    await stream.start()
    await stream.write(body)
    return await stream.end()
