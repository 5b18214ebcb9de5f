"""Why a call to a node failed, in words a node operator uses, plus the technical detail.

Every failure the client raises (errors.py) maps to a `Reason`: a short text for tables, badges
and mail subjects ("connection refused", "timed out after 5 s", "answered HTTP 500", "not a
FluxOS answer") and the detail an engineer wants (the exception class, the client's message, the
underlying socket error). The short text never carries Python or urllib3 repr text and is never
cut mid-word (`shorten`). No Django import.

The kind is read from the exception chain, not from message wording where the chain knows it: a
refused connection is a ConnectionRefusedError somewhere under the requests error, a reset a
ConnectionResetError, a TLS failure an ssl.SSLError; the panel's own outbound refusal
(fluxpanel.netguard.OutboundRefused) also covers DNS, since netguard resolves the name itself.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from dataclasses import dataclass
from http.client import RemoteDisconnected

from fluxpanel.netguard import OutboundRefused, PeerError, ResponseTooLarge

from .errors import (
    BadResponse,
    FluxClientError,
    FluxError,
    NodeTimeout,
    NodeUnreachable,
    Unauthorized,
)

SHORT_MAX = 80
DETAIL_MAX = 500
_ERRNO = re.compile(r"\[Errno (\d+)\]")
_SECONDS = re.compile(r"(\d+(?:\.\d+)?) s\b")


@dataclass(frozen=True)
class Reason:
    """`kind` is a stable word for code and tests; `short` is for people; `detail` for engineers."""

    kind: str
    short: str
    detail: str = ""

    def __str__(self) -> str:
        return self.short


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut at a word boundary with "…" when too long."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    space = cut.rfind(" ")
    if space >= limit // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–(") + "…"


def seconds_text(seconds: float) -> str:
    """Whole seconds for people ("5 s"); below one second, one decimal ("0.5 s")."""
    return f"{seconds:.1f} s" if seconds < 1 else f"{round(seconds):d} s"


def _chain(exc: BaseException, depth: int = 12):
    """The exception, its causes and contexts, urllib3's `.reason` and exceptions in args."""
    seen, todo = set(), [exc]
    while todo and len(seen) < depth * 3:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None),
                  *getattr(current, "args", ())]
        todo.extend(item for item in linked if isinstance(item, BaseException))


def _find(exc: BaseException, *types):
    for item in _chain(exc):
        if isinstance(item, types):
            return item
    return None


def _root(exc: BaseException):
    """The innermost socket or TLS error under a transport failure (not requests' or urllib3's
    wrappers, which are OSErrors too but only repeat it at length); failing that, urllib3's
    innermost error, which names the socket error in its text. None for answers that came."""
    if not isinstance(exc, (NodeUnreachable, NodeTimeout)):
        return None
    found = wrapper = None
    for item in _chain(exc):
        module = type(item).__module__
        if isinstance(item, OSError) and module in ("builtins", "ssl", "socket", "http.client"):
            found = item
        elif module.startswith("urllib3"):
            wrapper = item
    return found or (wrapper if isinstance(exc, NodeUnreachable) else None)


def detail_of(exc: BaseException) -> str:
    """Class and message of the client error, the URL, then the socket or TLS error under it."""
    head = f"{type(exc).__name__}: {shorten(getattr(exc, 'message', None) or exc, 160)}"
    url = getattr(exc, "url", "")
    if url:
        head += f" [{url}]"
    root = _root(exc)
    if root is not None:
        text = str(root)
        # urllib3 puts the socket error last: "Pool(…): Failed to establish a new connection: [Errno 111] …"
        if "): " in text:
            text = text.rsplit("): ", 1)[1]
        head += f" — {type(root).__name__}: {shorten(text, 200)}"
    return shorten(head, DETAIL_MAX)


def _timeout(exc: NodeTimeout) -> str:
    match = _SECONDS.search(exc.message)
    after = f" after {seconds_text(float(match.group(1)))}" if match else ""
    if exc.phase == "connect":
        return f"no connection{after}"
    if exc.message.startswith("no complete answer"):
        return f"answer too slow, cut off{after}"
    if exc.message.startswith("answer stalled"):
        return "answer stalled"
    return f"timed out{after}"


def _refusal(refused: OutboundRefused) -> tuple[str, str]:
    text = str(refused)
    if "does not resolve" in text:
        return "dns", "name does not resolve"
    if "only calls public addresses" in text or "local or metadata name" in text:
        return "netguard", "address not allowed (not public)"
    return "netguard", "address not allowed"


def _unreachable(exc: NodeUnreachable) -> tuple[str, str]:
    refused = _find(exc, OutboundRefused)
    if refused is not None:
        return _refusal(refused)
    if _find(exc, ssl.SSLCertVerificationError) is not None:
        return "tls", "TLS certificate not accepted"
    if _find(exc, ssl.SSLError) is not None or exc.message.startswith("TLS"):
        return "tls", "TLS handshake failed"
    if _find(exc, socket.gaierror) is not None:
        return "dns", "name does not resolve"
    if _find(exc, ConnectionRefusedError) is not None:
        return "refused", "connection refused"
    if _find(exc, ConnectionResetError, BrokenPipeError, ConnectionAbortedError) is not None:
        return "reset", "connection reset"
    if _find(exc, RemoteDisconnected) is not None:
        return "reset", "closed the connection without answering"
    # netguard's pinned connect reports the socket error as text only ("… [Errno 111] …").
    numbers = {int(n) for item in _chain(exc) for n in _ERRNO.findall(str(item))}
    root = _root(exc)
    if getattr(root, "errno", None):
        numbers.add(root.errno)
    if errno.ECONNREFUSED in numbers:
        return "refused", "connection refused"
    if numbers & {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}:
        return "reset", "connection reset"
    if numbers & {errno.ENETUNREACH, errno.EHOSTUNREACH}:
        return "unreachable", "no route to the node"
    if errno.ETIMEDOUT in numbers:
        return "timeout", "no connection (timed out)"
    if exc.message.startswith("answer cut off"):
        return "reset", "answer cut off"
    return "unreachable", "cannot reach the node"


def _bad(exc: BadResponse) -> tuple[str, str]:
    message = exc.message
    if message.startswith("answer larger than"):
        return "too_large", "answer too large (" + message.replace("answer larger than", "over", 1) + ")"
    if exc.http_status is not None and exc.http_status >= 300:
        return "http", f"answered HTTP {exc.http_status}"
    if message.startswith("undecodable body"):
        return "not_flux", "unreadable answer (bad compression)"
    if message.startswith("empty"):
        return "not_flux", "empty answer"
    if message in ("not JSON answer", "not a FluxOS envelope") or message.startswith("unexpected envelope"):
        return "not_flux", "not a FluxOS answer"
    return "bad_answer", "unexpected answer"


def explain(exc: BaseException) -> Reason:
    """The reason for any exception the node client raises (others: "panel error")."""
    if isinstance(exc, NodeTimeout):
        kind, short = "timeout", _timeout(exc)
    elif isinstance(exc, NodeUnreachable):
        kind, short = _unreachable(exc)
    elif isinstance(exc, BadResponse):
        kind, short = _bad(exc)
    elif isinstance(exc, Unauthorized):
        kind, short = "unauthorized", "FluxOS refused: not signed in"
    elif isinstance(exc, FluxError):
        kind, short = "flux_error", "FluxOS error: " + shorten(exc.message, SHORT_MAX - 14)
    elif isinstance(exc, OutboundRefused):
        kind, short = _refusal(exc)
    elif isinstance(exc, ResponseTooLarge):
        kind, short = "too_large", "answer too large"
    elif isinstance(exc, PeerError):
        kind, short = "timeout", "answer too slow"
    elif isinstance(exc, FluxClientError):
        kind, short = "failed", "request failed"
    else:
        return Reason("panel_error", "panel error while asking the node", shorten(
            f"{type(exc).__name__}: {exc}", DETAIL_MAX))
    return Reason(kind, shorten(short, SHORT_MAX), detail_of(exc))


def gave_up(seconds: float, what: str = "the sweep") -> Reason:
    """A caller stopped waiting for a node at its own limit (a sweep's, a sync's)."""
    return Reason("timeout", f"timed out after {seconds_text(seconds)}",
                  f"no complete answer within {what}'s limit of {seconds:g} s")


def garbage(what: str, detail: str) -> Reason:
    """A FluxOS answer with values the panel will not use (a height of 1e20, a wrong shape)."""
    return Reason("garbage", shorten(f"unusable values in {what}", SHORT_MAX), shorten(detail, DETAIL_MAX))
