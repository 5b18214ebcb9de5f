from django.urls import path

from apps.nodes import admin_views, views

app_name = "nodes"
urlpatterns = [
    path("", views.fleet, name="fleet"),
    path("register/", views.register, name="register"),
    path("register/owner/", views.register_owner, name="register_owner"),
    path("sweep/", views.sweep_now, name="sweep_now"),
    path("ops/", admin_views.node_ops, name="ops"),
    path("settings/", views.fleet_settings, name="settings"),
    path("settings/groups/", views.group_create, name="group_create"),
    path("settings/interval/", views.interval_set, name="interval_set"),
    path("settings/alerts/", views.alert_create, name="alert_create"),
    path("settings/alerts/<id:pk>/delete/", views.alert_delete, name="alert_delete"),
    path("settings/metrics-token/", views.metrics_token, name="metrics_token"),
    path("nodes/<id:pk>/", views.node_detail, name="detail"),
    path("nodes/<id:pk>/edit/", views.node_edit, name="edit"),
    path("nodes/<id:pk>/delete/", views.node_delete, name="delete"),
    path("nodes/<id:pk>/claim/", views.node_claim, name="claim"),
    path("nodes/<id:pk>/release/", views.node_release, name="release"),
]
