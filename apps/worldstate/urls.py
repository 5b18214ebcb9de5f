from django.urls import path

from apps.worldstate import views

app_name = "worldstate"
urlpatterns = [
    path("", views.engines, name="engines"),
    path("register/", views.engine_register, name="engine_register"),
    path("<int:pk>/", views.engine_detail, name="engine"),
    path("<int:pk>/settings/", views.engine_settings, name="engine_settings"),
    path("<int:pk>/delete/", views.engine_delete, name="engine_delete"),
    path("<int:pk>/bridge/publish/", views.bridge_publish, name="bridge_publish"),
    path("<int:pk>/entities/", views.entities, name="entities"),
    path("<int:pk>/entities/delete/", views.delete, name="delete"),
    path("<int:pk>/entity/", views.entity_detail, name="entity"),
    path("<int:pk>/entity/poll/", views.entity_poll, name="entity_poll"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/batch/", views.batch, name="batch"),
    path("<int:pk>/connectors/", views.connectors, name="connectors"),
    path("<int:pk>/config/", views.config, name="config"),
    path("<int:pk>/config/edit/", views.config_edit, name="config_edit"),
    path("<int:pk>/namespaces/", views.namespaces, name="namespaces"),
    path("<int:pk>/namespaces/register/", views.namespace_register, name="namespace_register"),
]
