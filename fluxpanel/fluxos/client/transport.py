"""Transport and envelope: how one request to a node is sent, bounded and read.

Every answer is read with `stream=True` and then through netguard.read_capped, so a node cannot
make the panel hold more than a cap in memory (8 MiB by default, more for the big lists) nor keep
a thread longer than the call's total deadline (connect + headers + body). Both bounds break as
typed client errors with short human messages.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from urllib.parse import quote

import requests

from fluxpanel.netguard import OutboundRefused, PeerError, ResponseTooLarge, read_capped

from ..identity import format_zelidauth
from .addresses import parse_node_address
from .deadline import CallDeadline, DeadlineAdapter
from .errors import BadResponse, FluxClientError, NodeTimeout, NodeUnreachable, Unauthorized
from .streams import DEFAULT_BOUNDS, StreamBounds, _ValueSplitter, error_from_envelope

# (connect, read). Connect is short: a node that does not accept within 3 s is down for a sweep.
DEFAULT_TIMEOUT = (3.05, 15.0)
# Register/update broadcast and wait for peers, 5–15 s on a real node.
SUBMIT_READ_TIMEOUT = 60.0
# Longest silence tolerated between two chunks of a streamed reply (removal, redeploy, backup).
STREAM_READ_TIMEOUT = 180.0

MIB = 1024 * 1024
# A node's ordinary answers are kilobytes; /flux/info with many apps a few hundred.
DEFAULT_MAX_BODY = 8 * MIB
# The deterministic node list (~15,000 nodes × ~600 bytes), all global specs, all locations.
BIG_LIST_MAX_BODY = 64 * MIB

# Connection-refused retries for read-only GETs: a dropped keep-alive or a node restarting is
# worth a quick second try; a timeout is not (it would only double the wait).
GET_RETRIES = 2
RETRY_BACKOFF_S = (0.05, 0.2)

# Per thread: a sweep touches many hosts once each, so only a few host pools are worth keeping;
# the per-host size covers a stream and a request to the same node at once.
POOL_HOSTS = 64
POOL_PER_HOST = 8

USER_AGENT = "fluxpanel-node-client/1"
BYPASS_HEADERS = {"x-apicache-bypass": "true"}
TEXT_PLAIN = "text/plain"
APPLICATION_JSON = "application/json"

_local = threading.local()


def thread_session(*, allow_private: bool = False) -> requests.Session:
    """This thread's pooled session for the given outbound policy (created on first use, kept for
    the thread's life). Every connection is checked and pinned by netguard.GuardedAdapter: only
    public addresses unless `allow_private` (development: the simulator on loopback)."""
    attr = "session_private" if allow_private else "session"
    session = getattr(_local, attr, None)
    if session is None:
        session = requests.Session()
        adapter = DeadlineAdapter(allow_private=allow_private, pool_connections=POOL_HOSTS,
                                  pool_maxsize=POOL_PER_HOST, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # requests asks for gzip: FluxOS's compression() middleware then gzips every streamed
        # reply and every JSON answer of 1 kB or more, so every reader must decode.
        session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        # Nodes are reached directly: skipping the proxy/.netrc environment lookups requests
        # does on every call saves about a third of its per-request CPU.
        session.trust_env = False
        setattr(_local, attr, session)
    return session


def _seg(value) -> str:
    """One URL path segment: everything encoded, `/` included (Express decodes it back)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return quote(str(value), safe="")


def format_zelidauth_header(zelidauth) -> str:
    """The header value: a ready string is sent as is; a mapping goes out in the JSON form.

    The JSON form is the one that survives base64 signatures (the querystring form turns `+` into
    spaces unless percent-encoded).
    """
    if isinstance(zelidauth, str):
        return zelidauth
    if isinstance(zelidauth, Mapping):
        return format_zelidauth(zelidauth["zelid"], zelidauth["signature"], zelidauth["loginPhrase"])
    raise TypeError("zelidauth must be a header string or a mapping with zelid, signature, loginPhrase")


def size_text(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit >= MIB and limit % MIB == 0 else f"{limit} bytes"


def _seconds(value: float) -> str:
    return f"{value:g} s" if value >= 1 else f"{value:.2g} s"


class Transport:
    """The client's plumbing; the areas (health, lifecycle, logs, …) are mixins on top of it.

    `deadline_s` bounds each whole call (connect + headers + body); by default a call gets its
    connect plus read timeout. `max_body` caps a non-streamed answer (8 MiB).
    """

    def __init__(self, base_url: str, *, session: requests.Session | None = None,
                 timeout=DEFAULT_TIMEOUT, zelidauth=None, verify_tls: bool = True,
                 bypass_cache: bool = False, allow_private: bool = False,
                 deadline_s: float | None = None, max_body: int = DEFAULT_MAX_BODY,
                 stream_bounds: StreamBounds = DEFAULT_BOUNDS):
        self.allow_private = allow_private
        self.base_url = base_url.rstrip("/")
        if not verify_tls and not self.base_url.startswith("https://"):
            raise ValueError("verify_tls=False only applies to a node's HTTPS port")
        self._session = session
        self.timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.zelidauth = format_zelidauth_header(zelidauth) if zelidauth is not None else None
        self.verify_tls = verify_tls
        self.bypass_cache = bypass_cache
        self.deadline_s = deadline_s
        self.max_body = max_body
        self.stream_bounds = stream_bounds

    @classmethod
    def for_address(cls, address: str, *, https: bool = False, **kwargs):
        """A client for a user-typed address (see parse_node_address)."""
        return cls(parse_node_address(address).base_url(https=https), **kwargs)

    def _clone(self, **changes):
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.__dict__.update(changes)
        return clone

    def with_auth(self, zelidauth):
        """The same node, calling as the given session triple."""
        return self._clone(zelidauth=format_zelidauth_header(zelidauth))

    def fresh(self):
        """The same node, bypassing FluxOS's URL-keyed response cache on every GET (e.g. reading
        running apps right after a lifecycle command)."""
        return self._clone(bypass_cache=True)

    @property
    def session(self) -> requests.Session:
        if self._session is not None:
            return self._session
        return thread_session(allow_private=self.allow_private)

    def __repr__(self) -> str:
        return f"NodeClient({self.base_url!r}, auth={'yes' if self.zelidauth else 'no'})"

    # ----------------------------------------------------------------- requests

    def path_url(self, *segments, query: Mapping | None = None) -> str:
        """URL of `/<seg>/<seg>…` under the base URL; None segments end the path."""
        parts = []
        for segment in segments:
            if segment is None:
                break
            parts.append(_seg(segment))
        url = self.base_url + "/" + "/".join(parts)
        if query:
            url += "?" + "&".join(f"{_seg(k)}={_seg(v)}" for k, v in query.items() if v is not None)
        return url

    def _headers(self, *, auth: bool, per_user: bool, content_type: str | None) -> dict | None:
        headers = None
        if auth:
            if self.zelidauth is None:
                raise Unauthorized("This call needs a zelidauth session; none was given.",
                                   url=self.base_url, code=401, name="Unauthorized")
            # Sent only where needed: FluxOS forwards any zelidauth it sees to its analytics.
            headers = {"zelidauth": self.zelidauth}
        if per_user or self.bypass_cache:
            headers = {**(headers or {}), **BYPASS_HEADERS}
        if content_type:
            headers = {**(headers or {}), "Content-Type": content_type}
        return headers

    def _budget(self, timeout) -> float:
        return self.deadline_s if self.deadline_s is not None else timeout[0] + timeout[1]

    def _send(self, method: str, url: str, *, headers=None, data=None, files=None,
              timeout=None, retry: bool = False, deadline: CallDeadline | None = None,
              ) -> requests.Response:
        """Send and return the response with its body unread (stream=True)."""
        timeout = timeout or self.timeout
        attempts = 1 + (GET_RETRIES if retry else 0)
        for attempt in range(attempts):
            left = deadline.remaining() if deadline else None
            call_timeout = timeout if left is None else (min(timeout[0], left), min(timeout[1], left))
            try:
                return self.session.request(method, url, headers=headers, data=data, files=files,
                                            timeout=call_timeout, stream=True,
                                            verify=self.verify_tls, allow_redirects=False)
            except OutboundRefused as exc:
                raise NodeUnreachable(f"refused: {exc}", url=url) from exc
            except requests.ConnectTimeout as exc:
                raise NodeTimeout(f"connect timed out after {_seconds(call_timeout[0])}", url=url,
                                  phase="connect") from exc
            except requests.ReadTimeout as exc:
                raise NodeTimeout(f"no answer within {_seconds(call_timeout[1])}", url=url,
                                  phase="read") from exc
            except requests.exceptions.SSLError as exc:
                if deadline and deadline.fired:
                    raise self._too_slow(url, timeout) from exc
                raise NodeUnreachable(f"TLS failure: {exc}", url=url) from exc
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                if deadline and deadline.fired:
                    raise self._too_slow(url, timeout) from exc
                if attempt + 1 < attempts:
                    time.sleep(RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)])
                    continue
                raise NodeUnreachable(f"cannot reach node: {_reason(exc)}", url=url) from exc
            except requests.RequestException as exc:
                raise FluxClientError(f"request failed: {exc}", url=url) from exc
        raise AssertionError("unreachable")

    def _too_slow(self, url: str, timeout) -> NodeTimeout:
        return NodeTimeout(f"no complete answer after {_seconds(self._budget(timeout))}", url=url,
                           phase="read")

    def _fetch(self, method: str, url: str, *, headers=None, data=None, files=None,
               timeout=None, retry: bool = False, limit: int | None = None,
               budget: float | None = None) -> requests.Response:
        """Send and read the whole body within the call's deadline and size cap."""
        timeout = timeout or self.timeout
        limit = limit or self.max_body
        budget = budget if budget is not None else self._budget(timeout)
        with CallDeadline(time.monotonic() + budget) as deadline:
            response = self._send(method, url, headers=headers, data=data, files=files,
                                  timeout=timeout, retry=retry, deadline=deadline)
            read_body(response, url, limit, deadline=deadline, too_slow=lambda: self._too_slow(url, timeout))
        return response

    def _call(self, method: str, url: str, *, auth: bool = False, per_user: bool = False,
              content_type: str | None = None, data=None, timeout=None, retry: bool = False,
              limit: int | None = None):
        """Send one request and return the envelope's `data` (raising the typed errors)."""
        headers = self._headers(auth=auth, per_user=per_user, content_type=content_type)
        response = self._fetch(method, url, headers=headers, data=data, timeout=timeout,
                               retry=retry, limit=limit)
        return parse_envelope(response, url)

    def _get(self, *segments, query=None, auth=False, per_user=False, read_only=True,
             limit: int | None = None):
        """GET; `read_only` GETs may be retried on connection failure, actions never are."""
        url = self.path_url(*segments, query=query)
        return self._call("GET", url, auth=auth, per_user=per_user, retry=read_only, limit=limit)

    def _post_text(self, path: tuple, body, *, auth=False, timeout=None):
        """POST for FluxOS's raw-body handlers: a JSON string sent as text/plain."""
        url = self.path_url(*path)
        payload = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        return self._call("POST", url, auth=auth, content_type=TEXT_PLAIN,
                          data=payload.encode("utf-8"), timeout=timeout)

    def _stream(self, url: str, *, method="GET", auth=True, content_type=None, data=None,
                timeout=None, retry: bool = False) -> requests.Response:
        """A streamed reply: the headers must arrive within connect + read timeout; the body is
        then bounded by the stream readers (size, duration, trickle)."""
        headers = self._headers(auth=auth, per_user=False, content_type=content_type)
        timeout = timeout or (self.timeout[0], STREAM_READ_TIMEOUT)
        with CallDeadline(time.monotonic() + timeout[0] + timeout[1]) as deadline:
            response = self._send(method, url, headers=headers, data=data, timeout=timeout,
                                  retry=retry, deadline=deadline)
        if response.status_code >= 500 and "json" not in response.headers.get("Content-Type", ""):
            read_body(response, url, 64 * 1024, deadline=None, too_slow=lambda: self._too_slow(url, timeout),
                      tolerate_large=True)
            body = response.text
            response.close()
            raise BadResponse(f"HTTP {response.status_code}", url=url,
                              http_status=response.status_code, body=body)
        return response


def read_body(response: requests.Response, url: str, limit: int, *, deadline: CallDeadline | None,
              too_slow, tolerate_large: bool = False) -> bytes:
    """read_capped with the client's errors: BadResponse when over the cap, NodeTimeout when the
    deadline passes, the transport errors as everywhere else."""
    try:
        return read_capped(response, limit, deadline=deadline.at if deadline else None)
    except ResponseTooLarge as exc:
        if tolerate_large:
            return b""
        raise BadResponse(f"answer larger than {size_text(limit)}", url=url,
                          http_status=response.status_code) from exc
    except PeerError as exc:  # ResponseTooSlow
        raise too_slow() from exc
    except requests.ReadTimeout as exc:
        raise NodeTimeout("answer stalled", url=url, phase="read") from exc
    except requests.exceptions.ContentDecodingError as exc:
        raise BadResponse(f"undecodable body: {_reason(exc)}", url=url) from exc
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        if deadline is not None and deadline.fired:
            raise too_slow() from exc
        raise NodeUnreachable(f"answer cut off: {_reason(exc)}", url=url) from exc


# --------------------------------------------------------------------------- parsing


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"


def _json_body(response: requests.Response, url: str):
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError) as exc:
        if response.status_code == 401:
            raise Unauthorized(response.text.strip()[:200] or "Access denied", url=url, code=401,
                               name="Unauthorized") from exc
        if not response.content:
            kind = f"empty HTTP {response.status_code} answer"
        elif response.status_code >= 400:
            kind = f"HTTP {response.status_code} answer"
        else:
            kind = "not JSON answer"
        raise BadResponse(kind, url=url, http_status=response.status_code,
                          body=response.text) from exc


def parse_envelope(response: requests.Response, url: str, *, allow_concatenated: bool = False):
    """`data` of a FluxOS envelope; typed errors for error envelopes and non-FluxOS answers.

    The HTTP status is only consulted when the body is not an envelope: FluxOS sends its errors,
    401s included, with HTTP 200.
    """
    if allow_concatenated:
        try:
            bodies = [json.loads(piece) for piece in _ValueSplitter().feed(response.text)]
        except (ValueError, RecursionError):
            bodies = []
        for body in bodies:
            if isinstance(body, dict) and body.get("status") == "error":
                raise error_from_envelope(body, url)
        body = bodies[-1] if bodies else _json_body(response, url)
    else:
        body = _json_body(response, url)
    if not isinstance(body, dict) or "status" not in body:
        raise BadResponse("not a FluxOS envelope", url=url, http_status=response.status_code,
                          body=response.text)
    status = body["status"]
    if status == "error":
        raise error_from_envelope(body, url)
    if status in ("success", "warning") and "data" in body:
        return body["data"]
    raise BadResponse(f"unexpected envelope status {str(status)[:40]!r}", url=url,
                      http_status=response.status_code, body=response.text)


def message_of(data):
    """Success messages come as `{code?, name?, message}`; data messages as a plain value."""
    if isinstance(data, dict) and "message" in data and set(data) <= {"code", "name", "message"}:
        return data["message"]
    return data


def parse_upload_progress(text: str, url: str) -> dict:
    """The upload reply: `[received, expected]` arrays back to back, then the saved field name."""
    splitter = _ValueSplitter()
    progress = []
    try:
        pieces = splitter.feed(text)
    except ValueError as exc:
        raise BadResponse("bad upload progress", url=url, body=text[:500]) from exc
    for piece in pieces:
        try:
            value = json.loads(piece)
        except (ValueError, RecursionError) as exc:
            raise BadResponse("bad upload progress", url=url, body=text) from exc
        if isinstance(value, dict) and value.get("status") == "error":
            raise error_from_envelope(value, url)
        progress.append(value)
    name = splitter.buffer.strip()
    if not progress and not name:
        raise BadResponse("empty upload reply", url=url)
    return {"progress": progress, "name": name}
