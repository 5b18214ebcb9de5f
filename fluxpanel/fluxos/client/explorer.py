"""Explorer reads (explorerService.js): balances and unspent outputs of an address, from the
node's own block index. Public, cached 30 s by the node.

FluxOS answers a balance as a bare integer of satoshis (the sum of the address's unspent outputs)
and the outputs as `{txid, vout, height, address, satoshis, scriptPubKey, coinbase}`. An address
is checked before it goes into a path, and numbers are range-checked (BadResponse otherwise).
"""

from __future__ import annotations

import re

from .errors import BadResponse
from .health import MAX_HEIGHT, shaped, whole_number

# 440 million FLUX in satoshis is well inside this; anything larger is not a real balance.
MAX_SATOSHIS = 10**17
# Transparent Flux addresses (t1…, t3…) and the 1… / 3… forms fluxd also indexes: base58 only.
ADDRESS_RE = re.compile(r"^[123t][1-9A-HJ-NP-Za-km-z]{25,40}$")
MAX_OUTPUTS = 5000


def check_address(address: str) -> str:
    if not isinstance(address, str) or not ADDRESS_RE.match(address):
        raise ValueError("not a Flux address")
    return address


class ExplorerMixin:
    def address_balance(self, address: str) -> int:
        """Satoshis held by the address (unspent outputs), as the node's explorer has scanned."""
        url = self.path_url("explorer", "balance", check_address(address))
        return whole_number(self._get("explorer", "balance", address), url=url, what="balance",
                            maximum=MAX_SATOSHIS)

    def address_utxos(self, address: str) -> list[dict]:
        """The address's unspent outputs, each checked: `{txid, vout, height, satoshis, coinbase}`."""
        url = self.path_url("explorer", "utxo", check_address(address))
        rows = shaped(self._get("explorer", "utxo", address), list, url=url, what="outputs")
        if len(rows) > MAX_OUTPUTS:
            raise BadResponse("too many outputs", url=url)
        outputs = []
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("txid"), str):
                raise BadResponse("output is not an object with a txid", url=url, body=str(row)[:100])
            outputs.append({
                "txid": row["txid"][:64],
                "vout": whole_number(row.get("vout"), url=url, what="vout", maximum=10_000),
                "height": whole_number(row.get("height"), url=url, what="height", maximum=MAX_HEIGHT),
                "satoshis": whole_number(row.get("satoshis"), url=url, what="amount", maximum=MAX_SATOSHIS),
                "coinbase": row.get("coinbase") is True,
            })
        return outputs

    def explorer_synced(self) -> bool:
        return self._get("explorer", "issynced") is True
