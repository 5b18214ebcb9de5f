"""The Flux stats API client (stats.runonflux.io, RunOnFlux/fluxstats): one projection of
`/fluxinfo`, over the node client's Transport (netguard's pinned adapter, the size cap and the
total deadline), never the full listing.

fluxstats answers `/fluxinfo?projection=a,b.c` with its usual envelope `{"status": "success",
"data": [{…only those fields…}, …]}`, one entry per node of its last completed crawl round
(MongoDB projection: dotted paths give nested objects, absent fields are left out).
The URL is `FLUX_STATS_API_URL`; a private or loopback address is refused unless
`FLUXPANEL_ALLOW_PRIVATE_STATS_API` (development: the stats double).
"""
from __future__ import annotations

from django.conf import settings

from fluxpanel.fluxos.client.transport import MIB, Transport

# The fields the panel reads (parse.py): about 120 bytes per node, ~2 MB for the whole network.
PROJECTION = ("ip", "tier", "flux.version", "flux.arcaneVersion", "benchmark.bench.eps")
MAX_BODY = 16 * MIB
TIMEOUT = (3.05, 20.0)


class StatsClient(Transport):
    """The stats API as a peer like a node: same caps, same typed errors (reasons.explain)."""

    def __repr__(self) -> str:
        return f"StatsClient({self.base_url!r})"

    def fluxinfo(self, fields=PROJECTION):
        url = self.path_url("fluxinfo", query={"projection": ",".join(fields)})
        return self._call("GET", url, retry=True, limit=MAX_BODY)


def stats_client() -> StatsClient:
    """The configured stats API, with the outbound policy and the deadline read at call time."""
    deadline = float(settings.NETWORK_STATS_DEADLINE_S)
    return StatsClient(settings.FLUX_STATS_API_URL, timeout=(min(TIMEOUT[0], deadline), deadline),
                       deadline_s=deadline,
                       allow_private=bool(settings.ALLOW_PRIVATE_STATS_API))
