"""From what a manager typed to the (address, base_url) pair the panel stores and calls."""
from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from fluxpanel.fluxos.client import parse_node_address


def normalise_address(text: str) -> tuple[str, str]:
    """Return (address shown and compared for duplicates, base URL to call).

    Raises ValueError with a message for the form. Only FluxOS API ports are accepted, unless the
    development setting FLUXPANEL_ALLOW_ANY_NODE_URL lets full URLs of a simulated fleet through.
    """
    raw = (text or "").strip()
    if settings.ALLOW_ANY_NODE_URL and raw.startswith(("http://", "https://")):
        parts = urlsplit(raw)
        if parts.hostname and parts.path.strip("/"):
            url = raw.rstrip("/")
            return url.split("://", 1)[1], url
    address = parse_node_address(raw)
    if "." not in address.host and ":" not in address.host:
        # A single word ("node1", "not") is almost always a typo: Flux nodes have public addresses.
        raise ValueError(f"'{address.host}' is not a node address: use its public IP or full host name.")
    base_url = address.base_url()
    return base_url.split("://", 1)[1], base_url


def split_line(line: str) -> tuple[str, str]:
    """A pasted line is `address` or `address name` (comma or whitespace between)."""
    parts = line.replace(",", " ").split(None, 1)
    address = parts[0] if parts else ""
    name = parts[1].strip() if len(parts) > 1 else ""
    return address, name
