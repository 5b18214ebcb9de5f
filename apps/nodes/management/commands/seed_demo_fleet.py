"""`make demo`: the demo account and team (once), the simulated nodes registered, a first sweep."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.accounts.models import Membership, Role, Team
from apps.nodes.actions import ensure_sweep_schedule, register_nodes
from apps.nodes.models import Node
from apps.nodes.sweep import run_sweep


class Command(BaseCommand):
    help = "Create the demo team and register the simulated nodes (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--team", required=True)
        parser.add_argument("urls", nargs="+")

    def handle(self, *, user, password, team, urls, **options):
        account, created = get_user_model().objects.get_or_create(username=user)
        if created:
            account.set_password(password)
            account.save()
        demo_team, _ = Team.objects.get_or_create(name=team)
        membership, _ = Membership.objects.get_or_create(
            team=demo_team, user=account, defaults={"role": Role.MANAGER})
        known = set(Node.objects.filter(team=demo_team).values_list("base_url", flat=True))
        missing = [f"{url} demo-node-{index:02d}" for index, url in enumerate(urls) if url not in known]
        if missing:
            register_nodes(membership=membership, text="\n".join(missing), source="demo")
        ensure_sweep_schedule(demo_team, 30)
        run_sweep(demo_team.pk)  # so the fleet page has data at once
