"""FluxOS configuration values the spec, price and signature rules depend on.

Copied from FluxOS `ZelBack/config/default.js` (production, `development: false`) at the commit
the oracle vectors were made from (RunOnFlux/flux 845aa9b, "fluxos v8.17.0"); the same values are
listed in ../shared/vectors/config_snapshot.json. They are copied here so that the panel does not
read ../shared at run time. Price tables can be replaced by the network's merged table later (see
`pricing.PriceTable`); everything else is consensus and changes only with a FluxOS release.
"""

from __future__ import annotations

# --- fluxapps.price / fluxapps.usdprice -------------------------------------------------------
# Row used for a block height = the last row whose `height` is strictly below it.
FLUX_PRICE_TABLE: tuple[dict, ...] = (
    {"height": -1, "cpu": 3, "ram": 1, "hdd": 0.5, "minPrice": 1, "port": 2, "scope": 6, "staticip": 3},
    {"height": 983000, "cpu": 0.3, "ram": 0.1, "hdd": 0.05, "minPrice": 0.1, "port": 2, "scope": 6, "staticip": 3},
    {"height": 1004000, "cpu": 0.06, "ram": 0.02, "hdd": 0.01, "minPrice": 0.01, "port": 2, "scope": 6, "staticip": 3},
    {"height": 1288000, "cpu": 0.15, "ram": 0.05, "hdd": 0.02, "minPrice": 0.01, "port": 2, "scope": 6, "staticip": 3},
    {"height": 1594832, "cpu": 0.15, "ram": 0.05, "hdd": 0.02, "minPrice": 0.01, "port": 1.5, "scope": 6, "staticip": 3},
    {"height": 1597156, "cpu": 0.03, "ram": 0.01, "hdd": 0.004, "minPrice": 0.01, "port": 0.4, "scope": 0.8, "staticip": 0.4},
)

# The fallback FluxOS uses when stats.runonflux.io/apps/getappspecsusdprice cannot be reached.
USD_PRICE_ROW: dict = {
    "height": -1,
    "cpu": 0.15,
    "ram": 0.05,
    "hdd": 0.02,
    "minPrice": 0.01,
    "port": 2,
    "scope": 4,
    "staticip": 2,
    "fluxmultiplier": 0.95,
    "multiplier": 1,
    "minUSDPrice": 0.99,
}

# Used by /apps/calculatefiatandfluxprice when neither viprates nor CoinGecko answers.
FLUX_USD_RATE_FALLBACK = 0.6

# --- spec versions -------------------------------------------------------------------------------
APP_SPECS_ENFORCEMENT_HEIGHTS: dict[int, int] = {
    1: 0,
    2: 0,
    3: 983000,
    4: 1004000,
    5: 1142000,
    6: 1300000,
    7: 1420000,
    8: 1932380,
}
LATEST_SUPPORTED_SPEC_VERSION = 8

# --- ports ---------------------------------------------------------------------------------------
PORT_MIN_LEGACY = 31000
PORT_MAX_LEGACY = 39999
PORT_BLOCKHEIGHT_CHANGE = 1420000
PORT_MIN = 1
PORT_MAX = 65535
# Strings are inclusive "min-max" ranges, numbers single ports (FluxOS keeps this mixed form).
BANNED_PORTS: tuple[str | int, ...] = (
    "16100-16299", "26100-26299", "30000-30099",
    8384, 27017, 22, 23, 25, 3389, 5900, 5800, 161, 512, 513, 5901, 3388, 4444, 123, 53,
)
ENTERPRISE_PORTS: tuple[str | int, ...] = ("0-1023", 8080, 8081, 8443, 6667)

# --- instances -----------------------------------------------------------------------------------
MINIMUM_INSTANCES = 3
MINIMUM_INSTANCES_V8 = 1
MINIMUM_INSTANCES_V8_BLOCK = 2176519
MAXIMUM_INSTANCES = 100

# --- subscription length (blocks) ----------------------------------------------------------------
BLOCKS_LASTING = 22000  # one month before the PON fork; x4 after it
MIN_BLOCKS_ALLOWANCE = 5000
NEW_MIN_BLOCKS_ALLOWANCE = 100
NEW_MIN_BLOCKS_ALLOWANCE_BLOCK = 1630040
CANCEL_1_BLOCK_MIN_BLOCKS_ALLOWANCE = 1
CANCEL_1_BLOCK_MIN_BLOCKS_ALLOWANCE_BLOCK = 1964447
MAX_BLOCKS_ALLOWANCE = 264000
POST_PON_MAX_BLOCKS_ALLOWANCE = 1056000
DAEMON_PON_FORK = 2020000  # chain runs 4x faster from here
PON_BLOCK_MULTIPLIER = 4
BLOCKS_ALLOWANCE_INTERVAL = 1000
REMOVE_BLOCKS_ALLOWANCE_INTERVAL_BLOCK = 1625000

# --- pricing forks -------------------------------------------------------------------------------
APPLY_MINIMUM_PRICE_ON_3_INSTANCES = 1691000
APPLY_MINIMUM_FOR_EXTRA_INSTANCES = 1890000

# --- hardware limits (fluxSpecifics minus lockedSystemResources) ---------------------------------
FLUX_SPECIFICS = {
    "cpu": {"cumulus": 40, "nimbus": 80, "stratus": 160},  # tenths of a core
    "ram": {"cumulus": 7000, "nimbus": 30000, "stratus": 61000},  # MB
    "hdd": {"cumulus": 220, "nimbus": 440, "stratus": 880},  # GB
}
LOCKED_SYSTEM_RESOURCES = {"cpu": 10, "ram": 2000, "hdd": 60, "extrahdd": 20}

# --- identities ----------------------------------------------------------------------------------
# Where app payments go (config fluxapps.address, then addressMultisig from multisigAddressChange;
# deploymentInfoService answers the one in force as `address`).
DEPLOYMENT_ADDRESSES: tuple[dict, ...] = (
    {"height": 0, "address": "t1LUs6quf7TB2zVZmexqPQdnqmrFMGZGjV6"},
    {"height": 1300000, "address": "t3aGJvdtd8NR6GrnqnRuVEzH6MbrXuJFLUX"},
    {"height": 1670000, "address": "t3NryfAQLGeFs9jEoeqsxmBN2QLRaRKFLUX"},
)

TEAM_SUPPORT_ADDRESSES: tuple[dict, ...] = (
    {"height": 1851659, "address": "16iJqiVbHptCx87q6XQwNpKdgEZnFtKcyP"},
)
USERS_TO_EXTEND: tuple[str, ...] = ("1MCBJn6qsy3YRY2YasdYMYdJcdhy1ev8Rd",)
FLUX_TEAM_FLUX_ID = "1hjy4bCYBJr4mny4zCE85J94RXa8W6q37"
FLUX_SUPPORT_TEAM_FLUX_ID = "16iJqiVbHptCx87q6XQwNpKdgEZnFtKcyP"

# Enterprise node public key -> app owners allowed to install on it: FluxOS's
# helpers/enterprisenodes.json at the vectors' commit. Live nodes re-read it from GitHub every 6 h
# (utils/enterpriseConfig.js), so a fresher copy can be passed through `enterprise_app_owners`.
ENTERPRISE_NODE_OWNERS: dict[str, tuple[str, ...]] = {
    "027595b0b8257d7b901fc024d7c5b66a7af68b64240dea0359dec3ffb1f2a33a8d": (
        "15ULw4JU6wqGESRYU3z3MjFETqLN3sA9Gn",
        "16FPpesA783sYXXSUf9grXKaj3KN3EeLK3",
    ),
    "021d6766ebfece175e3b5446ecfc07bf6fb8390b03017b5a6a447aa755391b49d5": ("1GM41a9A4rH8CCkCyzDRahHUccuTRLhoDe",),
}


def enterprise_app_owners(node_owner_map: dict) -> tuple[str, ...]:
    """enterpriseConfig.getEnterpriseAppOwners: every node's owners, deduplicated, first-seen order.

    These are the owners allowed `datacenter: true`. FluxOS refuses a map wholesale unless it is
    an object whose every value is an array of strings (isValidNodeOwnerMap), and then keeps the
    previous one; this raises ValueError for such a map so the caller can do the same.
    """
    if not isinstance(node_owner_map, dict) or not all(
        isinstance(owners, (list, tuple)) and all(isinstance(owner, str) for owner in owners)
        for owners in node_owner_map.values()
    ):
        raise ValueError("not a node -> owners map (an object of arrays of strings)")
    return tuple(dict.fromkeys(owner for owners in node_owner_map.values() for owner in owners))


ENTERPRISE_APP_OWNERS: tuple[str, ...] = enterprise_app_owners(ENTERPRISE_NODE_OWNERS)

# Register messages up to this timestamp (ms) were checked with the bitcoin verifier only.
BTC_ONLY_SIGNATURE_TIMESTAMP_MS = 1688947200000

# Date.parse('2020-01-01'): a number above it in an app name marks a marketplace app.
MARKETPLACE_NAME_TIMESTAMP_MS = 1577836800000
