"""The registry of signing-request kinds: what the message is, and what happens once it is signed.

Other apps add their own (e.g. app register/update) with `@signing_kind`:

    @signing_kind("app_register", label="Register an app", life=timedelta(hours=24))
    class AppRegister:
        def prepare(request) -> str: ...          # the exact text to sign (may call a node)
        def complete(request, signature, actor) -> str: ...  # run it; the outcome for the page

`prepare` runs when the key holder opens the request, and again when the message is older than
`message_life`. `complete` gets a signature that already verified for `request.zelid` over
`request.message`; it raises SigningFailed with a message for the page when the action fails.
It must not store the signature in clear text (use apps.wallets.vault).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta


class SignRefused(Exception):
    """A signature was refused before anything changed; `code` names the reason for tests and JS."""

    def __init__(self, message: str, code: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class SigningFailed(Exception):
    """The signature was good, but the action it authorises failed (e.g. the node said no)."""


@dataclass(frozen=True)
class SigningKind:
    name: str
    label: str
    prepare: Callable  # prepare(request) -> str
    complete: Callable  # complete(request, signature, actor) -> str
    life: timedelta  # how long a prepared request waits for the key holder
    message_life: timedelta  # how long one prepared message may be signed
    # Optional hooks: `closed(request, status, outcome)` runs (in the closing transaction) when a
    # request ends unsigned (declined, withdrawn, expired, failed); `detail_template` and
    # `detail_context(request)` add a kind-specific part to the key holder's pages.
    closed: Callable | None = None
    detail_template: str = ""
    detail_context: Callable | None = None


REGISTRY: dict[str, SigningKind] = {}


def signing_kind(name: str, *, label: str, life: timedelta = timedelta(hours=24),
                 message_life: timedelta = timedelta(minutes=14)):
    """Register a class (or any object) with `prepare` and `complete` as the kind `name`."""

    def decorator(handler):
        REGISTRY[name] = SigningKind(name=name, label=label, prepare=handler.prepare,
                                     complete=handler.complete, life=life,
                                     message_life=message_life,
                                     closed=getattr(handler, "closed", None),
                                     detail_template=getattr(handler, "detail_template", ""),
                                     detail_context=getattr(handler, "detail_context", None))
        return handler

    return decorator


def get_kind(name: str) -> SigningKind:
    try:
        return REGISTRY[name]
    except KeyError:
        raise LookupError(f"unknown signing request kind {name!r}") from None
