"""The backup_prune job (being written)."""
