"""`manage.py worldstate_subscribe`: the world-state subscriber process (apps/worldstate/subscriber.py).

`make run` and `make demo` start it beside the worker and beat; compose.yaml runs it as the
`subscriber` service. Several copies are safe: each engine's lease goes to one of them.
"""
import signal

from django.core.management.base import BaseCommand

from apps.worldstate.subscriber import Subscriber


class Command(BaseCommand):
    help = "Hold one live WebSocket subscription per registered world-state engine."

    def handle(self, *args, **options):
        subscriber = Subscriber()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: subscriber.stop())
        self.stdout.write(f"worldstate subscriber {subscriber.holder}: running", ending="\n")
        self.stdout.flush()
        subscriber.run()
