from django.urls import path

from apps.nodes import views

app_name = "nodes"
urlpatterns = [path("", views.fleet, name="fleet")]
