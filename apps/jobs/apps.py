from django.apps import AppConfig


class JobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.jobs"

    def ready(self):
        from apps.jobs import demo, heartbeat  # noqa: F401  (registers the demo kind, signals)
