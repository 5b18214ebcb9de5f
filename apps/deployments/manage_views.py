"""Placeholders: the owners/sources page and its writes (replaced by the real views)."""
from django.http import HttpResponse

from apps.accounts.access import team_view
from apps.accounts.models import Role


@team_view(Role.MANAGER)
def app_settings(request):
    return HttpResponse("")


owner_add = owner_remove = sources_set = app_add = app_drop = app_restore = sync_now = app_settings
