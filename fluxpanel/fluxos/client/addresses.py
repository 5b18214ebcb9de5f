"""Node addresses: what a user may type for a node, normalised to host and FluxOS API port."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_API_PORT = 16127
# FluxOS refuses to start on any other API port (config server.allowedPorts).
ALLOWED_API_PORTS = tuple(range(16127, 16198, 10))

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
        try:
            host, port = parts.hostname or "", parts.port
        except ValueError as exc:  # urllib's "Port out of range 0-65535" and the like
            raise ValueError("The port is not a valid port number.") from exc
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
    if not (port_text.isascii() and port_text.isdigit()) or len(port_text) > 5:
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
