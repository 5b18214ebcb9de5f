"""Errors of the world-state client. Every failure of an engine call is a WorldStateError, so a
view catches one class and shows its message; `str(error)` never contains an answer's body."""
from __future__ import annotations


class WorldStateError(Exception):
    """The engine refused a request (`status` is its HTTP status) or could not be used."""

    def __init__(self, status: int | None, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return self.message if self.status is None else f"{self.message} (HTTP {self.status})"


class BadRequest(WorldStateError):
    pass


class Unauthorized(WorldStateError):
    pass


class Forbidden(WorldStateError):
    pass


class NotFound(WorldStateError):
    pass


class Conflict(WorldStateError):
    pass


class PayloadTooLarge(WorldStateError):
    pass


class RateLimited(WorldStateError):
    def __init__(self, status: int | None, message: str, *, retry_after: float | None = None):
        super().__init__(status, message)
        self.retry_after = retry_after


class WorldStateUnavailable(WorldStateError):
    """The engine could not be reached, did not answer in time, or its address is refused."""

    def __init__(self, status: None, message: str):
        super().__init__(None, message)


class MalformedAnswer(WorldStateError):
    """The engine answered 2xx, but not with what its API promises (wrong shape or types, too
    large, too deep, or text that is not valid Unicode). Nothing of the answer is used."""

    def __init__(self, status: int | None, message: str):
        super().__init__(status, message)

    def __str__(self) -> str:
        return self.message


ERRORS_BY_STATUS: dict[int, type[WorldStateError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
    409: Conflict, 413: PayloadTooLarge, 429: RateLimited,
}
