"""Typed errors of the FluxOS node client.

FluxOS answers almost everything with HTTP 200, errors included, so the client turns transport
failures and error envelopes into one small exception tree that callers branch on instead of
looking at status codes or bodies. Every error carries the URL it was raised for, so a sweep can
log it without keeping the request around.
"""

from __future__ import annotations


class FluxClientError(Exception):
    """Base of everything the node client raises."""

    def __init__(self, message: str, *, url: str = ""):
        super().__init__(message)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return f"{self.message} ({self.url})" if self.url else self.message


class NodeUnreachable(FluxClientError):
    """No answer could be had: connection refused or reset, DNS failure, TLS failure."""


class NodeTimeout(FluxClientError):
    """The node accepted (or never accepted) the connection but did not answer in time.

    `phase` is "connect" or "read", because a node that cannot be reached at all and a node that
    hangs on a request mean different things to a health sweep.
    """

    def __init__(self, message: str, *, url: str = "", phase: str = "read"):
        super().__init__(message, url=url)
        self.phase = phase


class BadResponse(FluxClientError):
    """The answer was not a FluxOS reply: not JSON, not the envelope, or a bare HTTP error page."""

    def __init__(self, message: str, *, url: str = "", http_status: int | None = None, body: str = ""):
        super().__init__(message, url=url)
        self.http_status = http_status
        self.body = body[:500]


class FluxError(FluxClientError):
    """The node answered with `{"status": "error", "data": {code, name, message}}`.

    `code` and `name` are often absent in FluxOS errors, hence Optional.
    """

    def __init__(self, message: str, *, url: str = "", code=None, name: str | None = None, data=None):
        super().__init__(message, url=url)
        self.code = code
        self.name = name
        self.data = data


class Unauthorized(FluxError):
    """The node refused for lack of privilege.

    A subclass of FluxError because it *is* an error envelope (code 401, name "Unauthorized"), so
    code that only shows a node's message keeps working, while code that can re-login catches this
    first.
    """


UNAUTHORIZED_MESSAGE = "Unauthorized. Access denied."
