from django.apps import AppConfig


class JobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.jobs"

    def ready(self):
        from apps.jobs import connectivity, heartbeat  # noqa: F401  (registers the kind, signals)
        from fluxpanel.health import register_report

        register_report("worker", lambda: heartbeat.process_status("worker"))
        register_report("beat", lambda: heartbeat.process_status("beat"))
