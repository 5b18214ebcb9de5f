"""Node phrases and panel messages are told apart by construction (issue 10, F1)."""
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.wallets.challenges import build_message
from apps.wallets.models import Challenge
from apps.wallets.phrases import NotANodePhrase, node_phrase, panel_message
from fluxpanel.fluxos.identity import NODE_PHRASE_SHAPE, check_session_phrase, node_phrase_problem
from tests.sim.fluxnode_auth import fluxos_phrase

# Phrases FluxOS itself issued (fixtures of its test suite, reference fluxos-api.md §1.1 and §9).
FLUXOS_PHRASES = ["1644935889016mtmbo4uah32tvvwrmzg4j8qzv04ba8g8n56cevn6b",
                  "162797868130153vt9r89dzjjjfg6kf34ntf1d8aa5zqlk04j3zy8z40ni",
                  "16125160820394ddsh5skgwv0ipodku92y0jbwvpyj17bh68lzrjlxq9"]
ANY_AGE = 2**62


@pytest.mark.parametrize("phrase", FLUXOS_PHRASES)
def test_it_accepts_the_phrases_fluxos_makes(phrase):
    issued = int(phrase[:13])
    assert node_phrase(phrase, issued + 60_000) == phrase
    with pytest.raises(NotANodePhrase, match="older than the 15 minutes"):
        node_phrase(phrase, issued + 20 * 60_000)
    with pytest.raises(NotANodePhrase, match="in the future"):
        node_phrase(phrase, issued - 5 * 60_000)


@given(st.integers(min_value=10**12, max_value=10**13 - 1))
def test_it_accepts_what_the_simulated_node_makes_like_fluxos(now_ms):
    assert node_phrase_problem(fluxos_phrase(now_ms), now_ms) is None


@pytest.mark.parametrize("purpose", [Challenge.Purpose.SIGN_IN, Challenge.Purpose.BIND])
def test_it_panel_messages_are_never_node_nor_session_phrases(purpose):
    now = datetime.now(tz=UTC)
    message = build_message(purpose, host="panel.example", username="alice", now=now)
    now_ms = int(now.timestamp() * 1000)
    assert node_phrase_problem(message, now_ms, skew_ms=ANY_AGE) is not None
    assert not check_session_phrase(message, now_ms, max_age_ms=ANY_AGE)


@given(st.text(max_size=120))
def test_it_no_string_is_both_a_node_phrase_and_a_panel_message(text):
    is_node_phrase = node_phrase_problem(text, 0, skew_ms=ANY_AGE) is None
    try:
        panel_message(text)
        is_panel_message = True
    except ValueError:
        is_panel_message = False
    assert not (is_node_phrase and is_panel_message)
    if is_node_phrase:
        assert NODE_PHRASE_SHAPE.fullmatch(text) and 40 <= len(text) <= 65


@pytest.mark.parametrize("text", ["1700000000000" + "a" * 60, "short text", "Sign in " + "é" * 80])
def test_it_refuses_to_build_a_panel_message_that_could_be_confused(text):
    with pytest.raises(ValueError):
        panel_message(text)
