"""`make demo`: the demo team watches the simulated owners' addresses (idempotent)."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Membership
from apps.deployments.actions import add_watched_owner
from apps.deployments.models import WatchedOwner
from apps.deployments.owners import owner_key


class Command(BaseCommand):
    help = "Make the demo team watch the given owner ZelIDs (skips those already watched)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--team", required=True)
        parser.add_argument("addresses", nargs="+")

    def handle(self, *, user, team, addresses, **options):
        membership = (Membership.objects.select_related("team", "user")
                      .filter(team__name=team, user__username=user).first())
        if membership is None:
            raise CommandError(f"{user} is not a member of {team!r} (run seed_demo_fleet first)")
        watched = {owner_key(a) for a in
                   WatchedOwner.objects.filter(team=membership.team).values_list("address", flat=True)}
        for number, address in enumerate(addresses, start=1):
            if owner_key(address) in watched:
                continue
            try:
                add_watched_owner(membership=membership, address=address, label=f"demo owner {number}")
            except ValidationError as exc:
                self.stderr.write(f"skipped {address}: {'; '.join(exc.messages)}")
