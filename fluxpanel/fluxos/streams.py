"""Readers for the FluxOS replies that are not one JSON envelope.

FluxOS streams some answers while it works:
- app removal and redeploys write JSON objects back to back with no separator
  (`{"status":"Stopping…"}{"status":"Removing…"}`), ending, when something fails, with an error
  envelope;
- backup and restore tasks write plain-text lines, seconds apart;
- log polling returns its own object (`{"logs": [...], "lineCount", …, "status"}`) rather than the
  envelope.

The readers here yield each piece as soon as its bytes arrive, so a panel job can show live
progress, and turn errors written into the stream into the client's typed exceptions. Transport
failures in the middle of a stream become NodeTimeout / NodeUnreachable like everywhere else.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
import urllib3.exceptions

from .client_errors import BadResponse, FluxError, NodeTimeout, NodeUnreachable, Unauthorized

# A stream that never finishes one JSON value would otherwise grow the buffer without limit.
MAX_PENDING_CHARS = 4 * 1024 * 1024


def error_from_envelope(body: dict, url: str) -> FluxError:
    """The typed error for an error envelope; Unauthorized for FluxOS's exact 401 reply."""
    data = body.get("data")
    if isinstance(data, dict):
        message = str(data.get("message") or "Unknown error")
        code, name = data.get("code"), data.get("name")
    else:
        message, code, name = str(data if data is not None else "Unknown error"), None, None
    cls = Unauthorized if (code == 401 and name == "Unauthorized") else FluxError
    return cls(message, url=url, code=code, name=name, data=data)


def iter_raw_chunks(response: requests.Response, url: str) -> Iterator[bytes]:
    """Decoded body bytes as they arrive (read1 returns what is there instead of filling a block)."""
    raw = response.raw
    try:
        while True:
            data = raw.read1(65536)
            if not data:
                return
            yield data
    except (urllib3.exceptions.ReadTimeoutError, requests.Timeout) as exc:
        raise NodeTimeout(f"stream stalled: {exc}", url=url, phase="read") from exc
    except urllib3.exceptions.DecodeError as exc:
        raise BadResponse(f"undecodable stream: {exc}", url=url) from exc
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        raise NodeUnreachable(f"stream broken: {exc}", url=url) from exc
    finally:
        response.close()


def iter_text(response: requests.Response, url: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for chunk in iter_raw_chunks(response, url):
        text = decoder.decode(chunk)
        if text:
            yield text
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


class _ValueSplitter:
    """Finds where each top-level JSON object/array ends in concatenated text, across chunks.

    A small scanner (strings, escapes, nesting depth) rather than repeated json.raw_decode, so an
    incomplete value is told apart from a malformed one without re-parsing the whole buffer.
    """

    def __init__(self):
        self.buffer = ""
        self._pos = 0  # scan position inside the value being read
        self._depth = 0
        self._in_string = False
        self._escape = False

    def feed(self, text: str) -> list[str]:
        self.buffer += text
        values = []
        while True:
            if self._depth == 0:
                stripped = self.buffer.lstrip()
                if not stripped or stripped[0] not in "{[":
                    self.buffer = stripped
                    self._pos = 0
                    break
                self.buffer, self._pos = stripped, 0
            end = self._scan()
            if end is None:
                break
            values.append(self.buffer[:end])
            self.buffer, self._pos = self.buffer[end:], 0
        if len(self.buffer) > MAX_PENDING_CHARS:
            raise ValueError("stream value too large")
        return values

    def _scan(self) -> int | None:
        buf, i = self.buffer, self._pos
        while i < len(buf):
            ch = buf[i]
            if self._in_string:
                if self._escape:
                    self._escape = False
                elif ch == "\\":
                    self._escape = True
                elif ch == '"':
                    self._in_string = False
            elif ch == '"':
                self._in_string = True
            elif ch in "{[":
                self._depth += 1
            elif ch in "}]":
                self._depth -= 1
                if self._depth == 0:
                    self._pos = 0
                    return i + 1
            i += 1
        self._pos = i
        return None


class JsonObjectStream:
    """Iterates the back-to-back JSON objects of a removal/redeploy stream.

    Yields each parsed object (usually `{"status": "<progress text>"}`; success messages keep the
    envelope form `{"status": "success", "data": {...}}`). An error envelope in the stream raises
    FluxError/Unauthorized at that point. Use as a context manager, or iterate to the end, so the
    connection is released.
    """

    def __init__(self, response: requests.Response, url: str):
        self.response = response
        self.url = url
        self.messages: list = []  # everything yielded so far, for callers that only want a summary

    def __iter__(self) -> Iterator:
        splitter = _ValueSplitter()
        for text in iter_text(self.response, self.url):
            try:
                pieces = splitter.feed(text)
            except ValueError as exc:
                raise BadResponse(str(exc), url=self.url) from exc
            for piece in pieces:
                yield self._accept(piece)
        leftover = splitter.buffer.strip()
        if leftover:
            raise BadResponse("stream ended inside a JSON value or with non-JSON text",
                              url=self.url, http_status=self.response.status_code, body=leftover)

    def _accept(self, piece: str):
        try:
            obj = json.loads(piece)
        except json.JSONDecodeError as exc:
            raise BadResponse(f"bad JSON in stream: {exc}", url=self.url, body=piece) from exc
        if isinstance(obj, dict) and obj.get("status") == "error":
            raise error_from_envelope(obj, self.url)
        self.messages.append(obj)
        return obj

    def read_all(self) -> list:
        """Consume the stream; the list of objects (raises like iteration does)."""
        for _ in self:
            pass
        return self.messages

    def close(self) -> None:
        self.response.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class TextLineStream:
    """Iterates the plain-text progress lines of a backup/restore task as they are written.

    Lines are yielded without their newline. A line that is an error envelope (FluxOS answers bad
    parameters and missing privilege with JSON on these routes) raises the typed error.
    """

    def __init__(self, response: requests.Response, url: str):
        self.response = response
        self.url = url
        self.lines: list[str] = []

    def __iter__(self) -> Iterator[str]:
        pending = ""
        for text in iter_text(self.response, self.url):
            pending += text
            *complete, pending = pending.split("\n")
            for line in complete:
                yield self._accept(line)
        if pending.strip():
            yield self._accept(pending)

    def _accept(self, line: str) -> str:
        stripped = line.strip()
        if stripped.startswith("{") and '"status"' in stripped:
            try:
                obj = json.loads(stripped)
            except json.JSONDecodeError:
                obj = None
            if isinstance(obj, dict) and obj.get("status") == "error":
                raise error_from_envelope(obj, self.url)
        self.lines.append(line)
        return line

    def read_all(self) -> list[str]:
        for _ in self:
            pass
        return self.lines

    def close(self) -> None:
        self.response.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


@dataclass
class LogPoll:
    """One `/apps/applogpolling` answer (FluxOS's own shape, not the envelope)."""

    logs: list[str]
    line_count: object  # int, or "all"
    log_count: int
    since: str
    truncated: bool
    raw: dict = field(repr=False, default_factory=dict)

    @staticmethod
    def split_timestamp(line: str) -> tuple[str, str]:
        """Docker prefixes each line with an RFC 3339 timestamp and one space."""
        stamp, _, text = line.partition(" ")
        return stamp, text

    @property
    def last_timestamp(self) -> str | None:
        return self.split_timestamp(self.logs[-1])[0] if self.logs else None


def parse_log_poll(body, url: str) -> LogPoll:
    if not isinstance(body, dict):
        raise BadResponse("log polling answer is not an object", url=url, body=str(body))
    if body.get("status") == "error":
        raise error_from_envelope(body, url)
    logs = body.get("logs")
    if body.get("status") != "success" or not isinstance(logs, list):
        raise BadResponse("not a log polling answer", url=url, body=json.dumps(body)[:500])
    return LogPoll(
        logs=[str(line) for line in logs],
        line_count=body.get("lineCount"),
        log_count=int(body.get("logCount", len(logs))),
        since=str(body.get("sinceTimestamp") or ""),
        truncated=bool(body.get("truncated")),
        raw=body,
    )
