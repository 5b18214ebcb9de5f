"""`/metrics` sits at the top of the site (Prometheus' convention), outside the fleet's URLs."""
from django.urls import path

from apps.nodes.metrics import metrics

urlpatterns = [path("", metrics, name="metrics")]
