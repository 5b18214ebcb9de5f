"""The htmx conventions of every page, defined once.

One URL per page: a page's view renders its partial when `request.htmx` asks for it; links keep
`href` equal to `hx-get` so they work without JavaScript. A poll that finds nothing new answers
`unchanged()` (304: base.html tells htmx not to swap it); a poll that will never change again
answers `stop_polling(...)` (286: htmx stops polling).
"""
from __future__ import annotations

from django.http import HttpResponse
from django_htmx.http import HttpResponseStopPolling

# Seconds between polls of a live part of a page: fast for what a person is watching (job output,
# a live entity), normal for dashboards, slow while the tab is hidden.
POLL_FAST_S = 1
POLL_NORMAL_S = 3
POLL_SLOW_S = 15
POLL_HIDDEN_S = 30


def unchanged() -> HttpResponse:
    """The answer of a poll that found nothing new (htmx keeps the page as it is)."""
    return HttpResponse(status=304)


def stop_polling(response: HttpResponse | str | bytes = b"") -> HttpResponse:
    """A final poll answer: the content is swapped in and htmx stops polling (HTTP 286)."""
    if isinstance(response, HttpResponse):
        response.status_code = HttpResponseStopPolling.status_code
        return response
    return HttpResponseStopPolling(response)


def poll_settings(request) -> dict:
    """Context processor: `{{ poll.fast }}`, `{{ poll.normal }}`, `{{ poll.slow }}`, `{{ poll.hidden }}`."""
    return {"poll": {"fast": POLL_FAST_S, "normal": POLL_NORMAL_S, "slow": POLL_SLOW_S,
                     "hidden": POLL_HIDDEN_S}}
