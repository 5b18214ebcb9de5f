"""Readers for the FluxOS replies that are not one JSON envelope.

FluxOS streams some answers while it works (and gzips them: compression() sits in front of every
route, and a streamed reply has no length, so every reader here decodes the content encoding):
- app removal and redeploys write JSON objects back to back with no separator
  (`{"status":"Stopping…"}{"status":"Removing…"}`). Docker errors of one step are written as
  error envelopes *and the work goes on* (the image still in use, a container already gone);
  the outcome is the last envelope: success, or an error/warning that ended the stream
  (appUninstaller.removeAppLocally, advancedWorkflows.*Redeploy). An install failure inside a
  redeploy says "Error occured. Initiating Flux App X removal" and then *successfully removes*
  the app: that redeploy failed, whatever comes after.
- backup and restore tasks write plain-text lines (each followed by an empty line), and an error
  as its bare message text; a task that worked ends with "Finalizing...".
- exec writes the command's demultiplexed output as text under `application/json`.
- log polling returns its own object (`{"logs": [...], "lineCount", …, "status"}`).

The readers yield each piece as soon as its bytes arrive, so a panel job can show live progress.
Untrusted peers: a stream is bounded in total bytes and duration, and a message that has started
must be complete within STALL_S (one byte every two seconds is not progress). Transport failures
in the middle of a stream become NodeTimeout / NodeUnreachable like everywhere else.
"""

from __future__ import annotations

import codecs
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
import urllib3.exceptions

from .errors import BadResponse, FluxError, NodeTimeout, NodeUnreachable, Unauthorized

# A stream that never finishes one JSON value would otherwise grow the buffer without limit.
MAX_PENDING_CHARS = 4 * 1024 * 1024
MAX_STREAM_BYTES = 64 * 1024 * 1024
# A redeploy pulls images and waits FluxOS's redeploy delay: long, but not for ever.
MAX_STREAM_S = 2 * 3600.0
# An unfinished message (JSON value, text line) must be completed within this long.
STALL_S = 30.0
EXEC_ERROR_PROBE = 64 * 1024

# Written by appInstaller.registerAppLocally when an install (also inside a redeploy) failed; what
# follows is the clean-up removal, whose own success is not the operation's.
FAILED_INSTALL_PREFIX = "Error occured. Initiating Flux App"


@dataclass(frozen=True)
class StreamBounds:
    max_bytes: int = MAX_STREAM_BYTES
    max_seconds: float = MAX_STREAM_S
    stall_s: float = STALL_S


DEFAULT_BOUNDS = StreamBounds()


def error_from_envelope(body: dict, url: str) -> FluxError:
    """The typed error for an error envelope; Unauthorized for FluxOS's exact 401 reply."""
    data = body.get("data")
    if isinstance(data, dict):
        message = str(data.get("message") or "Unknown error")
        code, name = data.get("code"), data.get("name")
    else:
        message, code, name = str(data if data is not None else "Unknown error"), None, None
    cls = Unauthorized if (code == 401 and name == "Unauthorized") else FluxError
    return cls(message[:2000], url=url, code=code, name=name if isinstance(name, str) else None,
               data=data)


def iter_raw_chunks(response: requests.Response, url: str,
                    bounds: StreamBounds = DEFAULT_BOUNDS) -> Iterator[bytes]:
    """Decoded body bytes as they arrive (read1 returns what is there instead of filling a
    block; decode_content because requests leaves urllib3's raw reads undecoded)."""
    raw = response.raw
    started = time.monotonic()
    total = 0
    try:
        while True:
            data = raw.read1(65536, decode_content=True)
            if not data:
                return
            total += len(data)
            if total > bounds.max_bytes:
                raise BadResponse(f"stream larger than {bounds.max_bytes // (1024 * 1024)} MiB",
                                  url=url)
            if time.monotonic() - started > bounds.max_seconds:
                raise NodeTimeout(f"stream still running after {bounds.max_seconds:g} s", url=url,
                                  phase="read")
            yield data
    except (urllib3.exceptions.ReadTimeoutError, requests.Timeout) as exc:
        raise NodeTimeout(f"stream stalled: {exc}", url=url, phase="read") from exc
    except urllib3.exceptions.DecodeError as exc:
        raise BadResponse(f"undecodable stream: {exc}", url=url) from exc
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        raise NodeUnreachable(f"stream broken: {exc}", url=url) from exc
    finally:
        response.close()


def iter_text(response: requests.Response, url: str,
              bounds: StreamBounds = DEFAULT_BOUNDS) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for chunk in iter_raw_chunks(response, url, bounds):
        text = decoder.decode(chunk)
        if text:
            yield text
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


class _Stall:
    """Tracks how long the current unfinished message has been arriving."""

    def __init__(self, url: str, stall_s: float):
        self.url, self.stall_s = url, stall_s
        self.since: float | None = None

    def check(self, pending: bool) -> None:
        if not pending:
            self.since = None
            return
        now = time.monotonic()
        if self.since is None:
            self.since = now
        elif now - self.since > self.stall_s:
            raise NodeTimeout(f"stream trickling: no complete message in {self.stall_s:g} s",
                              url=self.url, phase="read")


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


class _NodeStream:
    """What every streamed reply shares: it owns an open response, and is a context manager."""

    def __init__(self, response: requests.Response, url: str,
                 bounds: StreamBounds = DEFAULT_BOUNDS):
        self.response = response
        self.url = url
        self.bounds = bounds

    def close(self) -> None:
        self.response.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class JsonObjectStream(_NodeStream):
    """Iterates the back-to-back JSON objects of a removal/redeploy stream.

    Yields every object as it arrives: progress (`{"status": "<text>"}`) and envelopes alike, so a
    job shows what the node wrote. An error envelope in the middle is not the end: its message is
    kept in `warnings`. When the stream ends, the outcome is decided as FluxOS means it (module
    docstring): `result` is the final success message, or FluxError is raised (with `warnings`).
    Use as a context manager, or iterate to the end, so the connection is released.
    """

    def __init__(self, response: requests.Response, url: str,
                 bounds: StreamBounds = DEFAULT_BOUNDS):
        super().__init__(response, url, bounds)
        self.messages: list = []  # everything yielded so far
        self.warnings: list[str] = []
        self.result: str | None = None
        self._failed: FluxError | None = None  # an install failure seen mid-stream

    def __iter__(self) -> Iterator:
        splitter = _ValueSplitter()
        stall = _Stall(self.url, self.bounds.stall_s)
        for text in iter_text(self.response, self.url, self.bounds):
            try:
                pieces = splitter.feed(text)
            except ValueError as exc:
                raise BadResponse(str(exc), url=self.url) from exc
            for piece in pieces:
                yield self._accept(piece)
            stall.check(bool(splitter.buffer.strip()))
        leftover = splitter.buffer.strip()
        if leftover:
            raise BadResponse("stream ended inside a JSON value or with non-JSON text",
                              url=self.url, http_status=self.response.status_code, body=leftover)
        self._finish()

    def _accept(self, piece: str):
        try:
            obj = json.loads(piece)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise BadResponse(f"bad JSON in stream: {exc}", url=self.url, body=piece) from exc
        if isinstance(obj, dict) and obj.get("status") == "error":
            error = error_from_envelope(obj, self.url)
            if isinstance(error, Unauthorized):
                raise error  # written instead of any work: nothing follows
            self.warnings.append(error.message)
            if error.message.startswith(FAILED_INSTALL_PREFIX) and self._failed is None:
                self._failed = error
        elif isinstance(obj, dict) and obj.get("status") == "warning":
            self.warnings.append(_text(obj.get("data")))  # e.g. "Escalating to hard redeploy"
        self.messages.append(obj)
        return obj

    def _finish(self) -> None:
        last = self.messages[-1] if self.messages else None
        status = last.get("status") if isinstance(last, dict) else None
        if status == "error":
            error = error_from_envelope(last, self.url)
            self.warnings.pop()  # it is the outcome, not a warning
            error.warnings = list(self.warnings)
            raise error
        if status == "warning":  # "Another application is undergoing removal" and the like
            self.warnings.pop()
            error = FluxError(_text(last.get("data")), url=self.url, name="warning", data=last.get("data"))
            error.warnings = list(self.warnings)
            raise error
        if self._failed is not None:
            self._failed.warnings = [w for w in self.warnings if w != self._failed.message]
            raise self._failed
        if status == "success":
            self.result = str(_text(last.get("data")))
            return
        if last is None:
            raise BadResponse("empty stream", url=self.url, http_status=self.response.status_code)
        # Progress objects only (e.g. a redeploy skipped for a running restore): no verdict given.
        self.result = None

    @property
    def succeeded(self) -> bool:
        return self.result is not None

    def read_all(self) -> list:
        """Consume the stream; the list of objects (raises like iteration does)."""
        for _ in self:
            pass
        return self.messages


def _text(data) -> str:
    if isinstance(data, dict) and "message" in data:
        return str(data["message"])
    return str(data)


class TextLineStream(_NodeStream):
    """Iterates the plain-text progress lines of a backup/restore task as they are written.

    Lines are yielded without their newline; FluxOS's empty separator lines are skipped. A task
    that worked ends with DONE_LINE. Anything else as the last line is FluxOS's error text
    (written as plain text, not JSON): iteration then raises FluxError with it. A line that is an
    error envelope (missing privilege, bad parameters on some routes) raises at once.
    """

    DONE_LINE = "Finalizing..."

    def __init__(self, response: requests.Response, url: str,
                 bounds: StreamBounds = DEFAULT_BOUNDS):
        super().__init__(response, url, bounds)
        self.lines: list[str] = []

    def __iter__(self) -> Iterator[str]:
        pending = ""
        stall = _Stall(self.url, self.bounds.stall_s)
        for text in iter_text(self.response, self.url, self.bounds):
            pending += text
            *complete, pending = pending.split("\n")
            for line in complete:
                if line.strip():
                    yield self._accept(line)
            if len(pending) > MAX_PENDING_CHARS:
                raise BadResponse("stream line too long", url=self.url)
            stall.check(bool(pending))
        if pending.strip():
            yield self._accept(pending)
        self._finish()

    def _accept(self, line: str) -> str:
        stripped = line.strip()
        if stripped.startswith("{") and '"status"' in stripped:
            try:
                obj = json.loads(stripped)
            except (json.JSONDecodeError, RecursionError):
                obj = None
            if isinstance(obj, dict) and obj.get("status") == "error":
                raise error_from_envelope(obj, self.url)
        self.lines.append(line)
        return line

    def _finish(self) -> None:
        last = self.lines[-1].strip() if self.lines else ""
        if last == self.DONE_LINE:
            return
        raise FluxError(last or "the task ended without a word", url=self.url)

    def read_all(self) -> list[str]:
        for _ in self:
            pass
        return self.lines


class ExecStream(_NodeStream):
    """The output of `/apps/appexec`: text chunks as the command writes them (stdout and stderr
    merged, already demultiplexed by FluxOS). FluxOS labels it application/json although it is
    plain text; a refusal comes instead as one error envelope, which raises on iteration."""

    def __init__(self, response: requests.Response, url: str,
                 bounds: StreamBounds = DEFAULT_BOUNDS):
        super().__init__(response, url, bounds)
        self.chunks: list[str] = []

    def __iter__(self) -> Iterator[str]:
        texts = iter_text(self.response, self.url, self.bounds)
        head = ""
        # A refusal is one envelope written before any output: only the start is looked at.
        for text in texts:
            head += text
            probe = head.lstrip()
            if len(head) >= EXEC_ERROR_PROBE:
                break
            if probe.startswith('{"status":'):
                if _envelope_error(head, self.url) is not None:
                    break
                continue  # maybe an envelope still arriving
            if '{"status":'.startswith(probe):
                continue  # too short to tell
            break
        error = _envelope_error(head, self.url)
        if error is not None:
            self.response.close()
            raise error
        if head:
            self.chunks.append(head)
            yield head
        for text in texts:
            self.chunks.append(text)
            yield text

    @property
    def output(self) -> str:
        return "".join(self.chunks)

    def read_all(self) -> str:
        for _ in self:
            pass
        return self.output


def _envelope_error(text: str, url: str) -> FluxError | None:
    stripped = text.strip()
    if not stripped.startswith('{"status":'):
        return None
    try:
        obj = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    if isinstance(obj, dict) and obj.get("status") == "error":
        return error_from_envelope(obj, url)
    return None


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
        raise BadResponse("log polling answer is not an object", url=url, body=str(body)[:500])
    if body.get("status") == "error":
        raise error_from_envelope(body, url)
    logs = body.get("logs")
    if body.get("status") != "success" or not isinstance(logs, list):
        raise BadResponse("not a log polling answer", url=url, body=json.dumps(body)[:500])
    count = body.get("logCount", len(logs))
    return LogPoll(
        logs=[str(line) for line in logs],
        line_count=body.get("lineCount"),
        log_count=count if isinstance(count, int) and not isinstance(count, bool) else len(logs),
        since=str(body.get("sinceTimestamp") or ""),
        truncated=bool(body.get("truncated")),
        raw=body,
    )


# appInstaller.testAppInstall: the node's word that a test install worked. Either the install's
# own final success envelope ("Flux App X successfully installed and launched"; the test app is
# removed afterwards), or, when the node's architecture is not among the images', a plain progress
# object whose status says the validation passed and the Docker part was skipped.
TEST_INSTALL_SKIPPED_PREFIX = "Test installation validation passed."
MAX_TEST_INSTALL_CHUNK_CHARS = 64 * 1024  # one progress object is well under a kilobyte


class TestInstallStream(_NodeStream):
    """The chunks of `/apps/testappinstall/<hash>`: JSON objects back to back, each yielded as it
    arrives (progress `{"status": "<text>"}`, Docker pull events, envelopes).

    Unlike a removal, a test install has no non-fatal errors: registerAppLocally writes the error
    envelope of the step that failed and then *never ends the response* (the test branch skips
    res.end()), so an error chunk raises FluxError at once instead of waiting for an end that does
    not come. A warning ("Another application is undergoing installation") ends the stream and
    raises too. A refusal written before any work (no privilege, a hash FluxOS does not hold: it
    then answers 401 because only the Flux team may test a permanent app) is one error envelope.
    `result` is the final message; a stream that ends without one raises BadResponse.
    """

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, response: requests.Response, url: str,
                 bounds: StreamBounds = DEFAULT_BOUNDS):
        super().__init__(response, url, bounds)
        self.messages: list[dict] = []
        self.result: str | None = None

    def __iter__(self) -> Iterator[dict]:
        splitter = _ValueSplitter()
        stall = _Stall(self.url, self.bounds.stall_s)
        try:
            for text in iter_text(self.response, self.url, self.bounds):
                try:
                    pieces = splitter.feed(text)
                except ValueError as exc:
                    raise BadResponse(str(exc), url=self.url) from exc
                for piece in pieces:
                    obj = self._accept(piece)
                    yield obj
                    if self.result is not None:
                        return
                pending = splitter.buffer
                if pending[:1] not in ("", "{"):
                    raise BadResponse("not FluxOS's streamed JSON", url=self.url, body=pending[:200])
                if len(pending) > MAX_TEST_INSTALL_CHUNK_CHARS:
                    raise BadResponse("stream message too large", url=self.url)
                stall.check(bool(pending.strip()))
            if splitter.buffer.strip():
                raise BadResponse("stream ended inside a JSON value", url=self.url,
                                  body=splitter.buffer[:200])
            raise BadResponse("the node ended the test install without saying it finished",
                              url=self.url, http_status=self.response.status_code)
        finally:
            self.response.close()

    def _accept(self, piece: str) -> dict:
        if len(piece) > MAX_TEST_INSTALL_CHUNK_CHARS:
            raise BadResponse("stream message too large", url=self.url)
        try:
            obj = json.loads(piece)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise BadResponse(f"bad JSON in stream: {exc}", url=self.url, body=piece) from exc
        status = obj.get("status") if isinstance(obj, dict) else None
        if not isinstance(status, str):
            raise BadResponse("a stream message without a status", url=self.url, body=piece)
        if status == "error":
            raise error_from_envelope(obj, self.url)
        if status == "warning":
            raise FluxError(_text(obj.get("data"))[:2000], url=self.url, name="warning",
                            data=obj.get("data"))
        self.messages.append(obj)
        if status == "success":
            self.result = _text(obj.get("data"))[:2000]
        elif status.startswith(TEST_INSTALL_SKIPPED_PREFIX):
            self.result = status[:2000]
        return obj

    @property
    def succeeded(self) -> bool:
        return self.result is not None
