"""Backup schedule writes (being written)."""
from django.http import Http404


def schedule_create(request, pk):
    raise Http404


schedule_update = schedule_enabled = schedule_delete = schedule_create
