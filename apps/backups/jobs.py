"""Backup, restore and verify jobs (being written)."""
