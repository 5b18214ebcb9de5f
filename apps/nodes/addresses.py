"""From what a manager typed to the (address, base_url) pair the panel stores and calls."""
from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from fluxpanel.fluxos.client import parse_node_address
from fluxpanel.netguard import check_host

ADDRESS_MAX = 255  # Node.address
BASE_URL_MAX = 300  # Node.base_url


def normalise_address(text: str) -> tuple[str, str]:
    """Return (address shown and compared for duplicates, base URL to call).

    Raises ValueError with a message for the form. Only FluxOS API ports of public addresses are
    accepted: a name or IP that is (or resolves to) a private, loopback, link-local, multicast or
    unspecified address is refused (netguard; the connection itself is pinned and checked again).
    The development setting FLUXPANEL_ALLOW_ANY_NODE_URL lets any address and full URLs of a
    simulated fleet through.
    """
    raw = (text or "").strip()
    if settings.ALLOW_ANY_NODE_URL and raw.startswith(("http://", "https://")):
        parts = urlsplit(raw)
        if parts.hostname and parts.path.strip("/"):
            url = raw.rstrip("/")
            return _fits(url.split("://", 1)[1], url)
    address = parse_node_address(raw)
    if "." not in address.host and ":" not in address.host:
        # A single word ("node1", "not") is almost always a typo: Flux nodes have public addresses.
        raise ValueError(f"'{address.host}' is not a node address: use its public IP or full host name.")
    check_host(address.host, address.api_port, allow_private=bool(settings.ALLOW_ANY_NODE_URL))
    base_url = address.base_url()
    return _fits(base_url.split("://", 1)[1], base_url)


def _fits(address: str, base_url: str) -> tuple[str, str]:
    if len(address) > ADDRESS_MAX or len(base_url) > BASE_URL_MAX:
        raise ValueError(f"The address is longer than {ADDRESS_MAX} characters.")
    return address, base_url


def split_line(line: str) -> tuple[str, str]:
    """A pasted line is `address` or `address name` (comma or whitespace between)."""
    parts = line.replace(",", " ").split(None, 1)
    address = parts[0] if parts else ""
    name = parts[1].strip() if len(parts) > 1 else ""
    return address, name
