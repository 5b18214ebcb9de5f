from django.urls import path

from apps.operations import logs_views, operate_views

app_name = "operations"
# /operate/<app id>/... : one URL per page (the operations page, the merged logs page) with its
# htmx partials.
urlpatterns: list = [
    path("<id:pk>/", operate_views.operate, name="operate"),
    path("<id:pk>/logs/", logs_views.app_logs, name="logs"),
]
