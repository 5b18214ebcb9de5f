from django.urls import path

from apps.network import views

app_name = "network"
# One page with its htmx part (?part=network).
urlpatterns = [path("", views.network_page, name="overview")]
