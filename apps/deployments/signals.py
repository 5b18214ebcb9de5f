"""Signals of app sync, for the alert rules and the world-state bridge."""
from django.dispatch import Signal

# Sent after an app sync wrote its results: sender=AppSync, sync, team_id, changed_app_ids
# (apps whose status or running-instance count changed).
apps_synced = Signal()
