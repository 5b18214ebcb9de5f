"""Signing kinds `app_register` and `app_update` (apps.wallets.kinds): filled in by issue 14."""
