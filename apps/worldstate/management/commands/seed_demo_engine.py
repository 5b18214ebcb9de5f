"""`make demo`: the engine double registered for the demo team, and the fleet published there."""
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Membership, Role
from apps.worldstate import actions
from apps.worldstate.models import Engine


class Command(BaseCommand):
    help = "Register the demo engine for the demo team and publish the fleet (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--team", required=True)
        parser.add_argument("url")

    def handle(self, *, user, team, url, **options):
        membership = Membership.objects.filter(user__username=user, team__name=team,
                                               role=Role.MANAGER).first()
        if membership is None:
            raise CommandError(f"{user} does not manage {team}: run seed_demo_fleet first")
        engine = Engine.objects.filter(team=membership.team, base_url=url).first()
        if engine is None:
            engine = actions.register_engine(membership=membership, name="Demo engine",
                                             base_url=url, namespace="demo")
            engine = actions.update_engine(membership=membership, engine=engine, name=engine.name,
                                           base_url=url, namespace="demo", bridge_enabled=True)
        # The engine double starts empty each time: publish the whole fleet, not only what changed.
        actions.publish_fleet_now(membership=membership, engine=engine)
