"""`make demo`: app-owner authorisations for the simulated owners, signed by the demo launcher as a
wallet would sign them (it holds the simulator's test keys; the panel holds none), so the demo's
Stats, Exec, Files and Operate pages act at once. Each is checked like a signed request: the
signature must verify for the ZelID and the phrase must be fresh. They last 2 hours, as on FluxOS."""
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Membership
from apps.wallets import node_sessions
from apps.wallets.actions import store_app_owner_authorisation
from fluxpanel.fluxos.signatures import verify_message


class Command(BaseCommand):
    help = "Store app-owner authorisations given as 'zelid phrase signature' lines for the demo team."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--team", required=True)
        parser.add_argument("signed", nargs="+", help="'<zelid> <login phrase> <signature>'")

    def handle(self, *, user, team, signed, **options):
        from django.utils import timezone

        membership = (Membership.objects.select_related("team", "user")
                      .filter(team__name=team, user__username=user).first())
        if membership is None:
            raise CommandError(f"{user} is not a member of {team!r} (run seed_demo_fleet first)")
        stored = 0
        for line in signed:
            parts = line.split(" ")
            if len(parts) != 3:
                raise CommandError("each authorisation is '<zelid> <login phrase> <signature>'")
            zelid, phrase, signature = parts
            if not verify_message(phrase, zelid, signature):
                raise CommandError(f"the signature of {zelid} does not verify")
            if timezone.now() - node_sessions.phrase_time(phrase) > node_sessions.APP_OWNER_LIFE:
                raise CommandError(f"the phrase of {zelid} is older than FluxOS accepts")
            store_app_owner_authorisation(team=membership.team, zelid=zelid, login_phrase=phrase,
                                          signature=signature, actor=membership.user)
            stored += 1
        self.stdout.write(f"{stored} app-owner authorisation(s) stored for {team}")
