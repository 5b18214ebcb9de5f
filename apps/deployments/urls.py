from django.urls import path

from apps.deployments import manage_views, views

app_name = "deployments"
urlpatterns = [
    # The Apps page (search, filters, sort, its live poll) and one app's page with its tabs.
    path("", views.app_list, name="list"),
    path("<id:pk>/", views.app_detail, name="detail"),
    # Writes (apps/deployments/actions.py), and the page where owners and sources are managed.
    path("settings/", manage_views.app_settings, name="settings"),
    path("owners/add/", manage_views.owner_add, name="owner_add"),
    path("owners/<id:pk>/remove/", manage_views.owner_remove, name="owner_remove"),
    path("sources/", manage_views.sources_set, name="sources_set"),
    path("add/", manage_views.app_add, name="app_add"),
    path("<id:pk>/drop/", manage_views.app_drop, name="app_drop"),
    path("<id:pk>/restore/", manage_views.app_restore, name="app_restore"),
    path("sync/", manage_views.sync_now, name="sync_now"),
]
