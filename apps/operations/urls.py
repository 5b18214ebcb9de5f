from django.urls import path  # noqa: F401 - the pages below add their paths

app_name = "operations"
# /operate/<app id>/... : one URL per page (the operations page, the merged logs page) with its
# htmx partials.
urlpatterns: list = []
