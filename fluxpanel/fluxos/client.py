"""The one HTTP client the panel uses to talk to a FluxOS node.

Every FluxOS quirk lives here and nowhere else (see shared/reference/fluxos-api.md §0, §1):
- errors come inside HTTP 200 as `{"status": "error", "data": {...}}`; they become typed
  exceptions (client_errors) so callers never look at bodies or status codes;
- most POST handlers read the raw body themselves, so JSON must go out as a string with
  `Content-Type: text/plain` (with application/json the node never answers); the backup and
  restore tasks are the exception and need application/json;
- privileged calls carry a `zelidauth` header in its JSON form;
- GET routes are cached by URL regardless of who asks, so per-user reads send
  `x-apicache-bypass: true`;
- components are addressed as `component_app`, and path parameters are URL-encoded.

Connections: one pooled requests.Session per thread (sessions are not thread-safe, and a sweep
runs many NodeClients from one thread pool), explicit (connect, read) timeouts, and a small retry
only for read-only GETs that failed to connect. No Django import: this module is used by workers,
benches and tests alike.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from .client_errors import (
    BadResponse,
    FluxClientError,
    FluxError,
    NodeTimeout,
    NodeUnreachable,
    Unauthorized,
)
from .identity import format_zelidauth
from .streams import (
    JsonObjectStream,
    LogPoll,
    TextLineStream,
    _ValueSplitter,
    error_from_envelope,
    parse_log_poll,
)

__all__ = [
    "ALLOWED_API_PORTS", "BadResponse", "FluxClientError", "FluxError", "LogPoll", "NodeAddress",
    "NodeClient", "NodeTimeout", "NodeUnreachable", "Unauthorized", "component_name",
    "parse_node_address", "thread_session",
]

DEFAULT_API_PORT = 16127
# FluxOS refuses to start on any other API port (config server.allowedPorts).
ALLOWED_API_PORTS = tuple(range(16127, 16198, 10))

# (connect, read). Connect is short: a node that does not accept within 3 s is down for a sweep.
DEFAULT_TIMEOUT = (3.05, 15.0)
# Register/update broadcast and wait for peers, 5–15 s on a real node.
SUBMIT_READ_TIMEOUT = 60.0
# Longest silence tolerated between two chunks of a streamed reply (removal, redeploy, backup).
STREAM_READ_TIMEOUT = 180.0

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


def thread_session() -> requests.Session:
    """This thread's pooled session (created on first use, kept for the thread's life)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=POOL_HOSTS, pool_maxsize=POOL_PER_HOST, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        # Nodes are reached directly: skipping the proxy/.netrc environment lookups requests
        # does on every call saves about a third of its per-request CPU.
        session.trust_env = False
        _local.session = session
    return session


# --------------------------------------------------------------------------- addresses

_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


@dataclass(frozen=True)
class NodeAddress:
    """A node's host and FluxOS API port (HTTP on the port, HTTPS on port + 1)."""

    host: str
    api_port: int = DEFAULT_API_PORT

    def base_url(self, *, https: bool = False) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if https:
            return f"https://{host}:{self.api_port + 1}"
        return f"http://{host}:{self.api_port}"

    @property
    def location(self) -> str:
        """The form FluxOS uses in app location records: `ip`, or `ip:port` off the default."""
        return self.host if self.api_port == DEFAULT_API_PORT else f"{self.host}:{self.api_port}"


def parse_node_address(text: str) -> NodeAddress:
    """Normalise what a user typed (`1.2.3.4`, `1.2.3.4:16137`, `http://host:16127/`,
    `https://1.2.3.4:16128`, a location record) into a NodeAddress.

    Raises ValueError with a message fit for a form when it is not a FluxOS node address.
    """
    raw = (text or "").strip()
    if not raw:
        raise ValueError("Enter a node IP address or host name.")
    https = False
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https"):
            raise ValueError("Only http:// or https:// node addresses are supported.")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("A node address has no path: give only host and port.")
        https = parts.scheme == "https"
        host, port = parts.hostname or "", parts.port
    else:
        host, port = _split_host_port(raw)
    host = host.strip().lower()
    if not _valid_host(host):
        raise ValueError(f"'{host}' is not a valid IP address or host name.")
    if port is None:
        api_port = DEFAULT_API_PORT
    elif https:
        api_port = port - 1  # HTTPS listens on the API port + 1
    else:
        api_port = port
    if api_port not in ALLOWED_API_PORTS:
        allowed = ", ".join(str(p) for p in ALLOWED_API_PORTS)
        shown = port if port is not None else api_port
        raise ValueError(f"Port {shown} is not a FluxOS API port (allowed: {allowed}; HTTPS is "
                         f"the API port + 1).")
    return NodeAddress(host, api_port)


def _split_host_port(raw: str) -> tuple[str, int | None]:
    raw = raw.rstrip("/")
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise ValueError(f"'{raw}' is not a valid address.")
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
    else:
        host, port_text = raw, ""  # a bare IPv6 address, or no port
    if not port_text:
        return host, None
    if not port_text.isdigit():
        raise ValueError(f"'{port_text}' is not a port number.")
    return host, int(port_text)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOSTNAME.match(host)) and not host.replace(".", "").isdigit()


def component_name(component: str | None, app: str) -> str:
    """FluxOS addresses one container of a v4+ app as `<component>_<app>`."""
    return f"{component}_{app}" if component else app


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


# --------------------------------------------------------------------------- the client


class NodeClient:
    """Typed access to one FluxOS node's HTTP API.

    `base_url` is opaque (a real node is `http://IP:16127`; a simulated one carries a path prefix).
    `zelidauth` is the session triple (header string or mapping) sent on privileged calls.
    `verify_tls=False` is only accepted for an https base URL: it exists for the node's self-signed
    certificate on the API port + 1 and for nothing else.
    """

    def __init__(self, base_url: str, *, session: requests.Session | None = None,
                 timeout=DEFAULT_TIMEOUT, zelidauth=None, verify_tls: bool = True,
                 bypass_cache: bool = False):
        self.base_url = base_url.rstrip("/")
        if not verify_tls and not self.base_url.startswith("https://"):
            raise ValueError("verify_tls=False only applies to a node's HTTPS port")
        self._session = session
        self.timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.zelidauth = format_zelidauth_header(zelidauth) if zelidauth is not None else None
        self.verify_tls = verify_tls
        self.bypass_cache = bypass_cache

    @classmethod
    def for_address(cls, address: str, *, https: bool = False, **kwargs) -> NodeClient:
        """A client for a user-typed address (see parse_node_address)."""
        return cls(parse_node_address(address).base_url(https=https), **kwargs)

    def _clone(self, **changes) -> NodeClient:
        clone = object.__new__(NodeClient)
        clone.__dict__.update(self.__dict__)
        clone.__dict__.update(changes)
        return clone

    def with_auth(self, zelidauth) -> NodeClient:
        """The same node, calling as the given session triple."""
        return self._clone(zelidauth=format_zelidauth_header(zelidauth))

    def fresh(self) -> NodeClient:
        """The same node, bypassing FluxOS's URL-keyed response cache on every GET (e.g. reading
        running apps right after a lifecycle command)."""
        return self._clone(bypass_cache=True)

    @property
    def session(self) -> requests.Session:
        return self._session if self._session is not None else thread_session()

    def __repr__(self) -> str:
        return f"NodeClient({self.base_url!r}, auth={'yes' if self.zelidauth else 'no'})"

    # ----------------------------------------------------------------- transport

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

    def _send(self, method: str, url: str, *, headers=None, data=None, files=None,
              timeout=None, stream: bool = False, retry: bool = False) -> requests.Response:
        timeout = timeout or self.timeout
        attempts = 1 + (GET_RETRIES if retry else 0)
        for attempt in range(attempts):
            try:
                return self.session.request(method, url, headers=headers, data=data, files=files,
                                            timeout=timeout, stream=stream, verify=self.verify_tls,
                                            allow_redirects=False)
            except requests.ConnectTimeout as exc:
                raise NodeTimeout(f"connect timed out after {timeout[0]} s", url=url,
                                  phase="connect") from exc
            except requests.ReadTimeout as exc:
                raise NodeTimeout(f"no answer within {timeout[1]} s", url=url, phase="read") from exc
            except requests.exceptions.SSLError as exc:
                raise NodeUnreachable(f"TLS failure: {exc}", url=url) from exc
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                if attempt + 1 < attempts:
                    time.sleep(RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)])
                    continue
                raise NodeUnreachable(f"cannot reach node: {_reason(exc)}", url=url) from exc
            except requests.exceptions.ContentDecodingError as exc:
                raise BadResponse(f"undecodable body: {exc}", url=url) from exc
            except requests.RequestException as exc:
                raise FluxClientError(f"request failed: {exc}", url=url) from exc
        raise AssertionError("unreachable")

    def _call(self, method: str, url: str, *, auth: bool = False, per_user: bool = False,
              content_type: str | None = None, data=None, timeout=None, retry: bool = False):
        """Send one request and return the envelope's `data` (raising the typed errors)."""
        headers = self._headers(auth=auth, per_user=per_user, content_type=content_type)
        response = self._send(method, url, headers=headers, data=data, timeout=timeout, retry=retry)
        return parse_envelope(response, url)

    def _get(self, *segments, query=None, auth=False, per_user=False, read_only=True):
        """GET; `read_only` GETs may be retried on connection failure, actions never are."""
        url = self.path_url(*segments, query=query)
        return self._call("GET", url, auth=auth, per_user=per_user, retry=read_only)

    def _post_text(self, path: tuple, body, *, auth=False, timeout=None):
        """POST for FluxOS's raw-body handlers: a JSON string sent as text/plain."""
        url = self.path_url(*path)
        payload = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        return self._call("POST", url, auth=auth, content_type=TEXT_PLAIN,
                          data=payload.encode("utf-8"), timeout=timeout)

    def _stream(self, url: str, *, method="GET", auth=True, content_type=None, data=None,
                timeout=None) -> requests.Response:
        headers = self._headers(auth=auth, per_user=False, content_type=content_type)
        timeout = timeout or (self.timeout[0], STREAM_READ_TIMEOUT)
        response = self._send(method, url, headers=headers, data=data, timeout=timeout, stream=True)
        if response.status_code >= 500 and "json" not in response.headers.get("Content-Type", ""):
            body = response.text
            response.close()
            raise BadResponse(f"HTTP {response.status_code}", url=url,
                              http_status=response.status_code, body=body)
        return response

    # ----------------------------------------------------------------- health (public)

    def version(self) -> str:
        """FluxOS version string, e.g. "8.17.0"."""
        return self._get("flux", "version")

    def info(self) -> dict:
        """The whole /flux/info object (daemon, node status, benchmark, flux, apps, geolocation)."""
        return self._get("flux", "info")

    def is_arcane_os(self) -> bool:
        return bool(self._get("flux", "isarcaneos"))

    def node_tier(self) -> str:
        """`cumulus` | `nimbus` | `stratus`, with `_new` for the newer collaterals."""
        return self._get("flux", "nodetier")

    def uptime(self) -> int:
        """Seconds the FluxOS process has been up."""
        return int(self._get("flux", "uptime"))

    def node_zelid(self) -> str:
        """The node owner's ZelID (the admin of this node)."""
        return self._get("flux", "id")

    def dos_state(self) -> dict:
        """`{dosState, dosMessage}`."""
        return self._get("flux", "dosstate")

    def benchmarks(self) -> dict:
        """Fluxbench results (cores, ram, ssd, eps, speeds, tier status, systemsecure, …)."""
        return self._get("benchmark", "getbenchmarks")

    def benchmark_status(self) -> dict:
        return self._get("benchmark", "getstatus")

    def flux_node_status(self) -> dict:
        """fluxd getzelnodestatus: status (CONFIRMED, DOS, …), tier, heights, payment address."""
        return self._get("daemon", "getfluxnodestatus")

    def block_count(self) -> int:
        return int(self._get("daemon", "getblockcount"))

    def list_flux_nodes(self, filter: str | None = None) -> list:
        """The daemon's deterministic node list, optionally filtered by fluxd's substring filter
        (txhash, IP or payment address). The list carries payment addresses, not ZelIDs: a node's
        owner ZelID is only known from that node (`node_zelid`)."""
        return self._get("daemon", "viewdeterministicfluxnodelist", filter)

    def connected_peers(self) -> list:
        """Outbound peer IPs."""
        return self._get("flux", "connectedpeers")

    def incoming_connections(self) -> list:
        return self._get("flux", "incomingconnections")

    def geolocation(self) -> dict:
        return self._get("flux", "geolocation")

    def running_apps(self) -> list:
        """Docker container objects of the running Flux apps (cached 15 s by the node)."""
        return self._get("apps", "listrunningapps")

    def installed_apps(self, app: str | None = None) -> list:
        """Specs of the apps installed on this node (optionally one app)."""
        return self._get("apps", "installedapps", app)

    def flux_usage(self) -> dict:
        """`{totalApps, runningApps, stoppedApps, nodeSpecs}`."""
        return self._get("apps", "fluxusage")

    def apps_resources(self) -> dict:
        return self._get("apps", "appsresources")

    # ----------------------------------------------------------------- identity

    def login_phrase(self) -> str:
        """A fresh one-time phrase issued by this node (valid 15 minutes, this node only)."""
        return self._get("id", "loginphrase", read_only=False)

    def emergency_phrase(self) -> str:
        """Like login_phrase but skips the node's health checks."""
        return self._get("id", "emergencyphrase", read_only=False)

    def verify_login(self, zelid: str, login_phrase: str, signature: str) -> dict:
        """Turn a signed phrase into a 14-day session; the reply's `privilage` (sic) says what."""
        body = {"zelid": zelid, "loginPhrase": login_phrase, "signature": signature}
        return self._post_text(("id", "verifylogin"), body)

    def check_privilege(self, zelid: str, signature: str, login_phrase: str) -> str:
        """`admin`, `fluxteam`, `user` or `none` for the given triple, as this node sees it."""
        body = {"zelid": zelid, "signature": signature, "loginPhrase": login_phrase}
        try:
            data = self._post_text(("id", "checkprivilege"), body)
        except FluxError as exc:
            if exc.message == "none":
                return "none"
            raise
        return data.get("message") if isinstance(data, dict) else data

    def logged_sessions(self) -> list:
        """The caller's sessions on this node (cache bypassed: the cache would serve anyone's)."""
        return self._get("id", "loggedsessions", auth=True, per_user=True)

    def logout(self) -> str:
        """End the session in this client's zelidauth."""
        return _message(self._get("id", "logoutcurrentsession", auth=True, per_user=True,
                                  read_only=False))

    def logout_all_sessions(self) -> str:
        return _message(self._get("id", "logoutallsessions", auth=True, per_user=True,
                                  read_only=False))

    def logout_specific_session(self, login_phrase: str) -> str:
        """FluxOS may write a warning and then the success message into one reply; the last
        object wins."""
        url = self.path_url("id", "logoutspecificsession")
        headers = self._headers(auth=True, per_user=False, content_type=TEXT_PLAIN)
        payload = json.dumps({"loginPhrase": login_phrase}, separators=(",", ":")).encode()
        response = self._send("POST", url, headers=headers, data=payload)
        return _message(parse_envelope(response, url, allow_concatenated=True))

    # ----------------------------------------------------------------- app specs

    def global_app_specs(self, *, app: str | None = None, owner: str | None = None,
                         hash: str | None = None) -> list:
        """Global app specs, optionally filtered (exact match) by name, owner or hash."""
        query = {"hash": hash, "owner": owner, "appname": app}
        return self._get("apps", "globalappsspecifications",
                         query={k: v for k, v in query.items() if v is not None} or None)

    def app_spec(self, app: str) -> dict:
        """Current spec of one app (global, else local) with `hash` and `height`."""
        return self._get("apps", "appspecifications", app)

    def app_owner(self, app: str) -> str:
        return self._get("apps", "appowner", app)

    def app_location(self, app: str) -> list:
        """Where an app runs: `[{name, hash, ip ("ip" or "ip:port"), broadcastedAt, …}]`."""
        return self._get("apps", "location", app)

    def app_locations(self) -> list:
        return self._get("apps", "locations")

    def verify_registration_spec(self, spec: dict) -> dict:
        """Validate a new spec; returns the canonical (formatted) spec to sign."""
        return self._post_text(("apps", "verifyappregistrationspecifications"), spec)

    def verify_update_spec(self, spec: dict) -> dict:
        return self._post_text(("apps", "verifyappupdatespecifications"), spec)

    def calculate_price(self, spec: dict) -> dict:
        """`{usd, flux, fluxDiscount}` for a spec (the node's own price computation)."""
        return self._post_text(("apps", "calculatefiatandfluxprice"), spec)

    def deployment_information(self) -> dict:
        """Price table, payment address, port rules and limits, as this node knows them."""
        return self._get("apps", "deploymentinformation")

    def register_app(self, spec: dict, timestamp: int, signature: str) -> str:
        """Submit a signed registration; returns the 64-hex message hash to pay for."""
        return self._submit("appregister", "fluxappregister", spec, timestamp, signature)

    def update_app(self, spec: dict, timestamp: int, signature: str) -> str:
        """Submit a signed update (signed by the current owner); returns the message hash."""
        return self._submit("appupdate", "fluxappupdate", spec, timestamp, signature)

    def _submit(self, route, message_type, spec, timestamp, signature) -> str:
        body = {"type": message_type, "version": 1, "appSpecification": spec,
                "timestamp": int(timestamp), "signature": signature}
        return self._post_text(("apps", route), body, auth=True,
                               timeout=(self.timeout[0], SUBMIT_READ_TIMEOUT))

    # ----------------------------------------------------------------- lifecycle

    def _lifecycle(self, command: str, app: str, component: str | None, global_: bool):
        if global_ and component:
            raise ValueError("global commands act on a whole app, not a component")
        name = component_name(component, app)
        data = self._get("apps", command, name, True if global_ else None, auth=True,
                         read_only=False)
        return _message(data)

    def start_app(self, app: str, component: str | None = None, *, global_: bool = False) -> str:
        """Start on this node, or (global_) ask this node to start every instance."""
        return self._lifecycle("appstart", app, component, global_)

    def stop_app(self, app: str, component: str | None = None, *, global_: bool = False) -> str:
        return self._lifecycle("appstop", app, component, global_)

    def restart_app(self, app: str, component: str | None = None, *, global_: bool = False) -> str:
        return self._lifecycle("apprestart", app, component, global_)

    def pause_app(self, app: str, component: str | None = None, *, global_: bool = False) -> str:
        return self._lifecycle("apppause", app, component, global_)

    def unpause_app(self, app: str, component: str | None = None, *, global_: bool = False) -> str:
        return self._lifecycle("appunpause", app, component, global_)

    def remove_app(self, app: str, *, force: bool = False, global_: bool = False,
                   timeout=None) -> JsonObjectStream:
        """Uninstall (whole app only). Streams progress objects; a global removal answers one
        success message."""
        url = self.path_url("apps", "appremove", app, force, True if global_ else None)
        return JsonObjectStream(self._stream(url, timeout=timeout), url)

    def redeploy_app(self, app: str, *, force: bool = False, global_: bool = False,
                     timeout=None) -> JsonObjectStream:
        """Soft (force=False) or hard redeploy; streams progress. If a restore of the app is
        running the node never answers, so iterating raises NodeTimeout after the read timeout."""
        url = self.path_url("apps", "redeploy", app, force, True if global_ else None)
        return JsonObjectStream(self._stream(url, timeout=timeout), url)

    def redeploy_component(self, app: str, component: str, *, force: bool = False,
                           timeout=None) -> JsonObjectStream:
        url = self.path_url("apps", "redeploycomponent", app, component, force)
        return JsonObjectStream(self._stream(url, timeout=timeout), url)

    # ----------------------------------------------------------------- observability

    def app_log(self, app: str, component: str | None = None, lines: int | str = "all") -> str:
        """Container log text (stdout+stderr, no timestamps). v4+ apps need the component."""
        return self._get("apps", "applog", component_name(component, app), lines, auth=True)

    def poll_app_log(self, app: str, component: str | None = None, *, lines: int | str = 100,
                     since: str | None = None) -> LogPoll:
        """One log poll: timestamped lines since an RFC 3339 time (FluxOS's own reply shape)."""
        url = self.path_url("apps", "applogpolling", component_name(component, app), lines,
                            since or None)
        headers = self._headers(auth=True, per_user=False, content_type=None)
        response = self._send("GET", url, headers=headers, retry=True)
        return parse_log_poll(_json_body(response, url), url)

    def follow_app_log(self, app: str, component: str | None = None, *, since: str | None = None,
                       interval_s: float = 2.0, stop: threading.Event | None = None,
                       max_polls: int | None = None) -> Iterator[str]:
        """Yield new timestamped log lines as they appear, polling with `since` = the last seen
        timestamp. Docker's `since` is inclusive, so lines already yielded at that instant are
        skipped. Ends when `stop` is set or after `max_polls`."""
        seen_at_last: set[str] = set()
        polls = 0
        while not (stop and stop.is_set()) and (max_polls is None or polls < max_polls):
            poll = self.poll_app_log(app, component, lines="all", since=since)
            polls += 1
            fresh = [line for line in poll.logs if line not in seen_at_last]
            yield from fresh
            if poll.last_timestamp:
                if poll.last_timestamp != since:
                    seen_at_last = set()
                since = poll.last_timestamp
                seen_at_last |= {line for line in poll.logs
                                 if LogPoll.split_timestamp(line)[0] == since}
            if max_polls is not None and polls >= max_polls:
                break
            if stop:
                stop.wait(interval_s)
            else:
                time.sleep(interval_s)

    def app_inspect(self, app: str, component: str | None = None) -> dict:
        """docker inspect of the container."""
        return self._get("apps", "appinspect", component_name(component, app), auth=True)

    def app_stats(self, app: str, component: str | None = None) -> dict:
        """docker stats (one shot) plus `disk_stats` and `nanoCpus`."""
        return self._get("apps", "appstats", component_name(component, app), auth=True)

    def app_top(self, app: str, component: str | None = None) -> dict:
        """docker top: `{Titles, Processes}`."""
        return self._get("apps", "apptop", component_name(component, app), auth=True)

    def app_changes(self, app: str, component: str | None = None) -> list:
        """docker diff: `[{Path, Kind}]`."""
        return self._get("apps", "appchanges", component_name(component, app), auth=True)

    # ----------------------------------------------------------------- volume browser

    def folder_info(self, app: str, component: str, folder: str = "") -> list:
        """Entries of a folder relative to the component mount (`appdata/sub`; "" = root)."""
        return self._get("apps", "getfolderinfo", app, component, folder or None, auth=True)

    def create_folder(self, app: str, component: str, folder: str) -> str:
        return _message(self._get("apps", "createfolder", app, component, folder, auth=True,
                                  read_only=False))

    def rename_object(self, app: str, component: str, old_path: str, new_name: str) -> str:
        if "/" in new_name:
            raise ValueError("the new name is a name, not a path")
        return _message(self._get("apps", "renameobject", app, component, old_path, new_name,
                                  auth=True, read_only=False))

    def remove_object(self, app: str, component: str, path: str) -> str:
        return _message(self._get("apps", "removeobject", app, component, path, auth=True,
                                  read_only=False))

    def download_file(self, app: str, component: str, path: str, dest=None):
        """A file from the volume: bytes, or written to `dest` (binary file) returning its size."""
        return self._download(self.path_url("apps", "downloadfile", app, component, path), dest)

    def download_folder(self, app: str, component: str, folder: str, dest=None):
        """A folder as a zip archive."""
        return self._download(self.path_url("apps", "downloadfolder", app, component, folder), dest)

    # ----------------------------------------------------------------- backups

    def volume_info(self, app: str, component: str, *, multiplier: str = "MB", decimal: int = 0,
                    fields: list[str] | None = None) -> dict:
        """df of the component volume; `mount` is the host path the backup endpoints take."""
        return self._get("backup", "getvolumedataofcomponent", app, component, multiplier,
                         decimal, ",".join(fields) if fields else None, auth=True)

    def local_backup_list(self, path: str, app: str, *, multiplier: str = "MB",
                          decimal: int = 0, number: bool = True) -> list:
        """`*.tar.gz` under an absolute backup path. FluxOS only reads the app name from the 5th
        path parameter, so the ones before it are always sent."""
        return self._get("backup", "getlocalbackuplist", path, multiplier, decimal, number, app,
                         auth=True)

    def remote_file_size(self, file_url: str, app: str, *, multiplier: str = "MB",
                         decimal: int = 0, number: bool = True):
        return self._get("backup", "getremotefilesize", file_url, multiplier, decimal, number, app,
                         auth=True)

    def remove_backup_file(self, file_path: str, app: str):
        return _message(self._get("backup", "removebackupfile", file_path, app, auth=True,
                                  read_only=False))

    def download_backup_file(self, file_path: str, app: str, dest=None):
        return self._download(self.path_url("backup", "downloadlocalfile", file_path, app), dest)

    def start_backup(self, app: str, components: list[str], *, timeout=None) -> TextLineStream:
        """Back up the components' appdata to `backup/local/backup_<c>.tar.gz`; streams lines.
        This route reads a parsed JSON body, so unlike other POSTs it goes out as application/json."""
        body = {"appname": app, "backup": [{"component": c, "backup": True} for c in components]}
        return self._task("appendbackuptask", body, timeout)

    def start_restore(self, app: str, components: list[str], *, source: str = "local",
                      urls: Mapping[str, str] | None = None, timeout=None) -> TextLineStream:
        """Restore components from a `local`, `remote` (url per component) or `upload` archive."""
        if source not in ("local", "remote", "upload"):
            raise ValueError("source is local, remote or upload")
        restore = []
        for component in components:
            item = {"component": component, "restore": True}
            if source == "remote":
                item["url"] = (urls or {})[component]
            restore.append(item)
        body = {"appname": app, "type": source, "restore": restore}
        return self._task("appendrestoretask", body, timeout)

    def _task(self, route: str, body: dict, timeout) -> TextLineStream:
        url = self.path_url("apps", route)
        payload = json.dumps(body, separators=(",", ":")).encode()
        response = self._stream(url, method="POST", content_type=APPLICATION_JSON, data=payload,
                                timeout=timeout)
        return TextLineStream(response, url)

    def upload_backup(self, app: str, component: str, fileobj, *, timeout=None) -> dict:
        """Upload an archive to `backup/upload/` for a restore with source="upload". FluxOS saves
        it under the multipart field name, so the field is named like the archive it expects."""
        name = f"backup_{component.lower()}.tar.gz"
        url = self.path_url("ioutils", "fileupload", "backup", app, component)
        headers = self._headers(auth=True, per_user=False, content_type=None)
        try:
            response = self._send("POST", url, headers=headers, files={name: (name, fileobj)},
                                  timeout=timeout or (self.timeout[0], STREAM_READ_TIMEOUT))
        except NodeUnreachable as exc:
            # On missing privilege or parameters the node just drops the connection.
            raise Unauthorized("upload refused: connection dropped by the node", url=url,
                               code=401, name="Unauthorized") from exc
        return parse_upload_progress(response.text, url)

    def _download(self, url: str, dest):
        headers = self._headers(auth=True, per_user=False, content_type=None)
        response = self._send("GET", url, headers=headers, stream=True, retry=True,
                              timeout=(self.timeout[0], STREAM_READ_TIMEOUT))
        with response:
            if "application/json" in response.headers.get("Content-Type", ""):
                parse_envelope(response, url)  # an error envelope raises here
                raise BadResponse("expected a file, got JSON", url=url)
            if response.status_code != 200:
                raise BadResponse(f"HTTP {response.status_code}", url=url,
                                  http_status=response.status_code, body=response.text)
            if dest is None:
                return response.content
            size = 0
            for chunk in response.iter_content(65536):
                dest.write(chunk)
                size += len(chunk)
            return size


# --------------------------------------------------------------------------- parsing


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"


def _json_body(response: requests.Response, url: str):
    try:
        return json.loads(response.content)
    except ValueError as exc:
        if response.status_code == 401:
            raise Unauthorized(response.text.strip() or "Access denied", url=url, code=401,
                               name="Unauthorized") from exc
        kind = f"HTTP {response.status_code}" if response.status_code >= 400 else "not JSON"
        raise BadResponse(f"{kind} answer", url=url, http_status=response.status_code,
                          body=response.text) from exc


def parse_envelope(response: requests.Response, url: str, *, allow_concatenated: bool = False):
    """`data` of a FluxOS envelope; typed errors for error envelopes and non-FluxOS answers.

    The HTTP status is only consulted when the body is not an envelope: FluxOS sends its errors,
    401s included, with HTTP 200.
    """
    if allow_concatenated:
        pieces = _ValueSplitter().feed(response.text)
        try:
            bodies = [json.loads(piece) for piece in pieces]
        except ValueError:
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
    raise BadResponse(f"unexpected envelope status {status!r}", url=url,
                      http_status=response.status_code, body=response.text)


def _message(data):
    """Success messages come as `{code?, name?, message}`; data messages as a plain value."""
    if isinstance(data, dict) and "message" in data and set(data) <= {"code", "name", "message"}:
        return data["message"]
    return data


def parse_upload_progress(text: str, url: str) -> dict:
    """The upload reply: `[received, expected]` arrays back to back, then the saved field name."""
    splitter = _ValueSplitter()
    progress = []
    for piece in splitter.feed(text):
        try:
            value = json.loads(piece)
        except ValueError as exc:
            raise BadResponse("bad upload progress", url=url, body=text) from exc
        if isinstance(value, dict) and value.get("status") == "error":
            raise error_from_envelope(value, url)
        progress.append(value)
    name = splitter.buffer.strip()
    if not progress and not name:
        raise BadResponse("empty upload reply", url=url)
    return {"progress": progress, "name": name}
