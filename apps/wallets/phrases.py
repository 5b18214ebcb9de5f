"""The two kinds of message a key holder signs, kept apart by construction.

A signature is only as safe as the message it covers: a hostile node asked for a login phrase can
answer with any text, for instance the panel's own sign-in challenge (fetched anonymously); a key
holder who signs it "to log in to the node" would hand the node a signature that signs the
attacker in to the panel. So:

* a **node phrase** (shown to sign on a node's say-so) must be of FluxOS's own shape and fresh
  (`fluxpanel.fluxos.identity.node_phrase_problem`): 13 ASCII digits, then 27-52 characters of
  ``[0-9a-z]``, i.e. 40-65 characters that start with a digit;
* a **panel message** (the panel's own challenges) starts with a letter and is longer than 70
  characters, so it is neither a node phrase nor a FluxOS session phrase (40-70 characters).

No string is both: `panel_message` enforces the second rule and checks the first one against the
very function that vets node phrases, at the place every panel message is built.
"""
from __future__ import annotations

from fluxpanel.fluxos.identity import SESSION_PHRASE_MAX_LENGTH, node_phrase_problem

PANEL_MESSAGE_MIN_LENGTH = SESSION_PHRASE_MAX_LENGTH + 1


class NotANodePhrase(ValueError):
    """What a node gave as its login phrase is not one; str() says why, for the page."""


def node_phrase(phrase, now_ms: int) -> str:
    """`phrase` when it can be a login phrase the node issued just now; else NotANodePhrase."""
    problem = node_phrase_problem(phrase, now_ms)
    if problem:
        raise NotANodePhrase(problem)
    return phrase


def panel_message(text: str) -> str:
    """`text`, once it is sure that no node phrase nor FluxOS session phrase can equal it."""
    if not text[:1].isalpha() or not text.isascii() or len(text) < PANEL_MESSAGE_MIN_LENGTH:
        raise ValueError("a panel message starts with a letter, is ASCII and longer than 70 "
                         "characters")
    # Any age passes with this skew: what is left is the shape check, which must refuse.
    if node_phrase_problem(text, 0, skew_ms=2**62) is None:
        raise ValueError("a panel message must never pass as a node phrase")
    return text
