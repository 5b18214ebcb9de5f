from django.apps import AppConfig


class WorldstateConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.worldstate"
