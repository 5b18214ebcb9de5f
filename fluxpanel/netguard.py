"""Outbound calls to untrusted peers: where the panel may connect, and how much it will read.

Nodes, engines, explorers and webhook receivers are addresses that users type in. Without a guard
a user could point the panel at an internal service (SSRF) and read its answers on a page. Two
rules live here and nowhere else:

- **Where**: a host is refused when any address it resolves to is not globally routable: loopback,
  private, link-local, CGNAT (100.64/10), IETF protocol assignments (192.0.0.0/24), documentation,
  benchmarking, multicast, reserved, unspecified, and IPv6 forms that embed such an IPv4 address
  (IPv4-mapped, NAT64, 6to4). Cloud metadata names are refused by name as well. The check runs *when
  the connection is made*, on the very address the socket connects to, so a DNS answer that changes
  between a form's check and the call (rebinding) cannot slip through.
- **How much**: `read_capped` reads a streamed body up to a byte limit and an absolute deadline, so a
  peer that sends 300 MB, or one byte every two seconds, costs a bounded amount of memory and time.

No Django import: the FluxOS client and the world-state client use this module as they are.
"""
from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import connection as urllib3_connection

__all__ = [
    "GuardedAdapter", "OutboundRefused", "PeerError", "ResponseTooLarge", "ResponseTooSlow",
    "check_host", "check_url", "guarded_session", "read_capped", "refusal_reason",
]


class OutboundRefused(ValueError):
    """The panel will not call this address. The message is fit for a form or a page."""


class PeerError(Exception):
    """A peer's answer broke a bound (size or time)."""


class ResponseTooLarge(PeerError):
    pass


class ResponseTooSlow(PeerError):
    pass


# Names that reach a cloud provider's instance metadata (credentials!) on some networks.
_METADATA_NAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
    "instance-data.ec2.internal", "metadata.azure.com", "metadata.platformequinix.com",
})
_REFUSED_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")

# Not globally routable although Python's is_global says otherwise (or has said so in some
# Python versions): CGNAT and every IETF protocol assignment (192.0.0.8, 192.0.0.170 …).
_EXTRA_REFUSED = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
    "::/128", "::1/128", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10",
    "ff00::/8",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def refusal_reason(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why the panel will not connect to this IP address, or None when it may."""
    ip = ipaddress.ip_address(address.split("%")[0] if isinstance(address, str) else address)
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = refusal_reason(inner)
            return f"it embeds {inner}, and {reason}" if reason else None
    if ip.is_loopback:
        return "it is a loopback address"
    if ip.is_link_local:
        return "it is a link-local address"
    if ip.is_multicast:
        return "it is a multicast address"
    if ip.is_unspecified:
        return "it is the unspecified address"
    if ip.is_private:
        return "it is a private address"
    if any(ip in net for net in _EXTRA_REFUSED if net.version == ip.version) or not ip.is_global:
        return "it is not a public address"
    return None


def _refused_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name in _METADATA_NAMES or name.endswith(_REFUSED_SUFFIXES)


def _literal(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def check_host(host: str, port: int, *, allow_private: bool = False) -> list[tuple]:
    """Resolve `host` and return its getaddrinfo entries, refusing it when any address is refused.

    Every address must pass: a name that resolves to one public and one private address is refused,
    since the connection could go to either.
    """
    host = (host or "").strip("[]")
    if not host:
        raise OutboundRefused("The address has no host.")
    if not allow_private and _literal(host) is None and _refused_name(host):
        raise OutboundRefused(f"{host} is a local or metadata name; the panel does not call it.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"{host} does not resolve ({_gai_text(exc)}).") from exc
    if not infos:
        raise OutboundRefused(f"{host} does not resolve.")
    if not allow_private:
        for info in infos:
            address = info[4][0]
            reason = refusal_reason(address)
            if reason:
                shown = f"{host}:" if _literal(host) is not None else f"{host} resolves to {address}:"
                raise OutboundRefused(f"{shown} {reason}, and the panel only calls public addresses.")
    return infos


def _gai_text(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or "name not found"


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Refuse a URL (http/https only) whose host the panel may not call. For form validation; the
    connection itself is checked again by GuardedAdapter."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused("Only http:// and https:// addresses are supported.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundRefused("The address has an invalid port.") from exc
    check_host(parts.hostname or "", port, allow_private=allow_private)


# --------------------------------------------------------------------------- pinned connections


class _PinnedMixin:
    """Resolve, check and connect in one step: the socket goes to the address that was checked.
    TLS still verifies and sends SNI for the host name (urllib3 wraps the socket afterwards)."""

    allow_private = False

    def _new_conn(self) -> socket.socket:
        infos = check_host(self._dns_host, self.port, allow_private=self.allow_private)
        error: OSError | None = None
        for *_, sockaddr in infos:
            try:
                return urllib3_connection.create_connection(
                    (sockaddr[0], sockaddr[1]), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options)
            except OSError as exc:  # try the next checked address, like create_connection does
                error = exc
        raise urllib3_exceptions.NewConnectionError(self, f"Failed to establish a new connection: {error}")


def _pool_classes(allow_private: bool) -> dict:
    attrs = {"allow_private": allow_private}
    http_conn = type("GuardedHTTPConnection", (_PinnedMixin, HTTPConnection), attrs)
    https_conn = type("GuardedHTTPSConnection", (_PinnedMixin, HTTPSConnection), attrs)
    return {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


_POOL_CLASSES = {flag: _pool_classes(flag) for flag in (False, True)}


class GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter whose every new connection is checked and pinned (see module docstring).

    With `allow_private=True` (development mode) nothing is refused, but the same code path runs.
    """

    def __init__(self, *, allow_private: bool = False, **kwargs):
        self.allow_private = allow_private
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES[self.allow_private]

    def __setstate__(self, state):  # pickling support mirrors HTTPAdapter's
        self.allow_private = state.get("allow_private", False)
        super().__setstate__(state)


class _NeverRedirectingSession(requests.Session):
    """A session that hands every 3xx back as it is. requests otherwise reads a redirect's whole
    body (unbounded) to release the socket and computes the next hop even when it will not follow
    it; a peer's redirect could point anywhere, and is not the address the user registered."""

    def get_redirect_target(self, resp):
        return None


def guarded_session(*, allow_private: bool = False, pool_connections: int = 10,
                    pool_maxsize: int = 10) -> requests.Session:
    """A requests.Session for untrusted peers: guarded adapter, no proxies or .netrc from the
    environment, no retries, and redirects never followed (the 3xx answer is returned with its
    Location, its body unread until the caller reads it with read_capped)."""
    session = _NeverRedirectingSession()
    adapter = GuardedAdapter(allow_private=allow_private, pool_connections=pool_connections,
                             pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False
    return session


# --------------------------------------------------------------------------- bounded reads

READ_CHUNK = 65536


def read_capped(response: requests.Response, limit_bytes: int, *, deadline: float | None = None) -> bytes:
    """The (content-decoded) body of a `stream=True` response, at most `limit_bytes` long, read
    before `deadline` (a time.monotonic() value). Raises ResponseTooLarge / ResponseTooSlow and
    closes the response when a bound is broken; sets `response._content` so `.text`/`.json()` work.

    Each read returns as soon as some bytes arrive (read1), so a trickling peer is checked against
    the deadline between its bytes; one silent gap is bounded by the read timeout of the request.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit_bytes:
        response.close()
        raise ResponseTooLarge(f"answer of {int(declared)} bytes is over the {limit_bytes}-byte limit")
    raw = response.raw
    reader = getattr(raw, "read1", None)
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if deadline is not None and time.monotonic() > deadline:
                raise ResponseTooSlow("answer not complete in time")
            chunk = reader(READ_CHUNK, decode_content=True) if reader else raw.read(READ_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > limit_bytes:
                raise ResponseTooLarge(f"answer over the {limit_bytes}-byte limit")
            chunks.append(chunk)
    except PeerError:
        response.close()
        raise
    except urllib3_exceptions.ReadTimeoutError as exc:  # the same errors requests itself raises
        response.close()
        raise requests.exceptions.ReadTimeout(exc) from exc
    except urllib3_exceptions.DecodeError as exc:
        response.close()
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except (urllib3_exceptions.ProtocolError, urllib3_exceptions.SSLError, OSError) as exc:
        response.close()
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    body = b"".join(chunks)
    response._content = body
    response._content_consumed = True
    return body
