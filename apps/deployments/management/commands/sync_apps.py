"""Run one app sync for a team now (the demo's first sync; also handy by hand)."""
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Team
from apps.deployments.sync import run_app_sync


class Command(BaseCommand):
    help = "Sync the apps of a team (by name or id) once, in this process."

    def add_arguments(self, parser):
        parser.add_argument("--team", required=True, help="team name or id")

    def handle(self, *, team, **options):
        found = Team.objects.filter(pk=int(team)).first() if team.isdigit() else None
        found = found or Team.objects.filter(name=team).first()
        if found is None:
            raise CommandError(f"no team {team!r}")
        sync = run_app_sync(found.pk)
        if sync is None:
            self.stdout.write(f"an app sync of {found.name} is already running")
        else:
            self.stdout.write(f"app sync of {found.name}: {getattr(sync, 'status', sync)}")
