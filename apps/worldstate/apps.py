from django.apps import AppConfig


class WorldstateConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.worldstate"

    def ready(self):
        from apps.nodes.sweep import sweep_finished
        from apps.worldstate.bridge import on_sweep_finished

        sweep_finished.connect(on_sweep_finished, dispatch_uid="worldstate.bridge")

        from apps.worldstate.subscriber import report
        from fluxpanel.health import register_report

        register_report("subscriber", report)
