"""What the signing component shows for one message: the text, who must sign, where the signature
goes, the ZelCore deep link and its QR code.

ZelCore (reference wallets.md §1): `zel:?action=sign&message=…&icon=…&callback=…`, every value
percent-encoded; ZelCore then POSTs `address`, `message`, `signature` to the callback from the
wallet's own device, so the callback must be reachable from there (a public HTTPS URL).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from urllib.parse import quote, urlsplit

from fluxpanel.fluxos.signatures import eth_message_is_standard

# FluxOS's UIs keep ZelCore URIs under this many characters; longer messages are fetched by
# ZelCore from the panel (`FLUX_URL=`, apps.wallets.long_messages).
ZELCORE_MESSAGE_LIMIT = 1800
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0")


def _uri(message: str, callback_url: str, icon_url: str) -> str:
    return ("zel:?action=sign&message=" + quote(message, safe="") + "&icon=" + quote(icon_url, safe="")
            + "&callback=" + quote(callback_url, safe=""))


def zelcore_uri(message: str, *, callback_url: str, icon_url: str, message_url: str = "") -> str | None:
    """The `zel:` link, at most ZELCORE_MESSAGE_LIMIT characters. A message too long for that
    goes as `FLUX_URL=<message_url>` (ZelCore fetches the text there: apps.wallets.long_messages);
    without a `message_url`, or when even that is too long, there is no ZelCore link (None)."""
    if len(message) <= ZELCORE_MESSAGE_LIMIT:
        uri = _uri(message, callback_url, icon_url)
        if len(uri) <= ZELCORE_MESSAGE_LIMIT:
            return uri
    if not message_url:
        return None
    uri = _uri("FLUX_URL=" + message_url, callback_url, icon_url)
    return uri if len(uri) <= ZELCORE_MESSAGE_LIMIT else None


def qr_svg(text: str) -> str:
    """An inline SVG QR code of `text`, drawn on the server (no script, no outside service)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    svg = svg.replace("<svg ", '<svg role="img" aria-label="QR code of the ZelCore link" ', 1)
    if "xmlns=" not in svg[:200]:  # served as an image of its own, it needs its namespace
        svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return svg


def callback_is_local(callback_url: str) -> bool:
    return (urlsplit(callback_url).hostname or "") in _LOCAL_HOSTS


@dataclass
class SignItem:
    """One message for the signing component (`templates/wallets/_sign_item.html`)."""

    title: str
    why: str
    message: str
    submit_url: str
    poll_url: str
    callback_url: str
    icon_url: str
    expires_at: datetime
    expected_zelid: str = ""  # empty: any ZelID may sign (signing in, linking)
    # Where this message stands among several: in a batch "2 of 5"; in the open queue, how many
    # wait; nothing for a single message.
    index: int = 1
    total: int = 1
    in_batch: bool = False
    decline_url: str = ""
    node_name: str = ""
    # The QR code is an image of its own URL: drawing it costs tens of milliseconds, so a page
    # pays for it only when someone opens "scan the QR code".
    qr_url: str = ""
    message_url: str = ""  # where ZelCore fetches a message too long for its link

    @cached_property
    def zel_uri(self) -> str | None:
        return zelcore_uri(self.message, callback_url=self.callback_url, icon_url=self.icon_url,
                           message_url=self.message_url)

    @property
    def message_fetched(self) -> bool:
        """The ZelCore link carries the message's URL, not the message."""
        return bool(self.zel_uri) and "FLUX_URL%3D" in self.zel_uri[:40]

    @property
    def eth_standard(self) -> bool:
        return eth_message_is_standard(self.message)

    @property
    def expires_ms(self) -> int:
        return int(self.expires_at.timestamp() * 1000)

    @property
    def callback_local(self) -> bool:
        return callback_is_local(self.callback_url)

    @property
    def progress(self) -> str:
        if self.total <= 1:
            return ""
        return f"{self.index} of {self.total}" if self.in_batch else f"{self.total} waiting"

    @property
    def percent(self) -> int:
        return round(100 * (self.index - 1) / self.total) if self.in_batch and self.total else 0

    @property
    def expects_evm(self) -> bool:
        return self.expected_zelid.lower().startswith("0x")

    @property
    def expects_btc(self) -> bool:
        return bool(self.expected_zelid) and not self.expects_evm
