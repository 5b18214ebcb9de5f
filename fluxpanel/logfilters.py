"""Logging filters. No Django import: the logging config names them by dotted path."""
from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """django.request logs a 403 (and a 400 from SuspiciousOperation) with the exception's
    traceback. A refused request is the panel working as meant, not a fault: keep the one-line
    warning, drop the traceback, so the log shows real errors at a glance."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
