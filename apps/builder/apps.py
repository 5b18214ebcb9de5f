from django.apps import AppConfig


class BuilderConfig(AppConfig):
    """Drafts of app specs, the builder page, signing, submission to the network and payment."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.builder"

    def ready(self):
        # Registers the signing kinds (app_register, app_update) and the job kinds (submit, watch,
        # test install).
        from apps.builder import jobs, signing, test_install, watch  # noqa: F401
