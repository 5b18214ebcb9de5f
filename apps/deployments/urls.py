from django.urls import path

from apps.deployments import views

app_name = "deployments"
urlpatterns = [path("", views.app_list, name="list")]
