"""Which owner addresses a team watches: its key holders' linked ZelIDs and its watched owners."""
from __future__ import annotations

from apps.deployments.models import WatchedOwner
from apps.wallets.models import WalletIdentity


def owner_key(address: str) -> str:
    """Comparison form of an owner address: EVM (0x…) addresses are case-insensitive, ZelIDs not."""
    return address.lower() if address[:2].lower() == "0x" else address


def team_owner_addresses(team) -> list[str]:
    """The ZelIDs linked by the team's members plus its watched owners, deduplicated, in order."""
    linked = WalletIdentity.objects.filter(user__memberships__team=team).order_by("zelid").values_list(
        "zelid", flat=True)
    watched = WatchedOwner.objects.filter(team=team).order_by("address").values_list("address", flat=True)
    seen: set[str] = set()
    owners: list[str] = []
    for address in [*linked, *watched]:
        address = (address or "").strip()
        key = owner_key(address)
        if address and key not in seen:
            seen.add(key)
            owners.append(address)
    return owners
