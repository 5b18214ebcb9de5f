from django.urls import path

from apps.worldstate import views

app_name = "worldstate"
urlpatterns = [path("", views.engines, name="engines")]
