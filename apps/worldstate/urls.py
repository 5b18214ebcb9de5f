from django.urls import path

from apps.worldstate import live_views, views

app_name = "worldstate"
urlpatterns = [
    path("", views.engines, name="engines"),
    path("register/", views.engine_register, name="engine_register"),
    path("<id:pk>/", views.engine_detail, name="engine"),
    path("<id:pk>/settings/", views.engine_settings, name="engine_settings"),
    path("<id:pk>/delete/", views.engine_delete, name="engine_delete"),
    path("<id:pk>/bridge/publish/", views.bridge_publish, name="bridge_publish"),
    path("<id:pk>/entities/", views.entities, name="entities"),
    path("<id:pk>/entities/delete/", views.delete, name="delete"),
    path("<id:pk>/entity/", views.entity_detail, name="entity"),
    path("<id:pk>/live/", live_views.live_stream, name="live"),
    path("<id:pk>/publish/", views.publish, name="publish"),
    path("<id:pk>/batch/", views.batch, name="batch"),
    path("<id:pk>/connectors/", views.connectors, name="connectors"),
    path("<id:pk>/config/", views.config, name="config"),
    path("<id:pk>/config/edit/", views.config_edit, name="config_edit"),
    path("<id:pk>/namespaces/", views.namespaces, name="namespaces"),
    path("<id:pk>/namespaces/register/", views.namespace_register, name="namespace_register"),
]
