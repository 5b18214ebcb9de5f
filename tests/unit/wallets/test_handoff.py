"""What the signing component shows: the ZelCore link and QR, the EVM warning, the long-message
limit, and the local-callback hint."""
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from django.template.loader import render_to_string

from apps.wallets.handoff import SignItem, zelcore_uri


def item(message="1700000000000abcdefghijklmnopqrstuvwxyz0123456789", **changes):
    fields = dict(title="Log in", why="Because", message=message, submit_url="/s/", poll_url="/p/",
                  callback_url="https://panel.example/wallet/requests/zelcore/T/",
                  icon_url="https://panel.example/wallet/icon.svg",
                  expires_at=datetime(2030, 1, 1, tzinfo=UTC), expected_zelid="1abc")
    fields.update(changes)
    return SignItem(**fields)


def test_it_zelcore_link_percent_encodes_every_value():
    message = '{"name":"app & co","x":"a+b=c"}\n'
    uri = zelcore_uri(message, callback_url="https://p.example/cb/?a=1&b=2", icon_url="https://p.example/i.svg")
    assert uri.startswith("zel:?action=sign&message=")
    query = parse_qs(urlsplit(uri.replace("zel:", "http://zel/", 1)).query)
    assert query["message"] == [message]
    assert query["callback"] == ["https://p.example/cb/?a=1&b=2"]
    assert query["icon"] == ["https://p.example/i.svg"]
    assert zelcore_uri("x" * 1801, callback_url="c", icon_url="i") is None


def test_it_item_renders_the_four_ways_and_points_at_its_qr_image():
    html = render_to_string("wallets/_sign_item.html", {"item": item(qr_url="/wallet/q.svg")})
    for method in ('data-method="ssp"', 'data-method="evm"', 'data-method="zelcore"', 'data-role="paste-form"'):
        assert method in html
    # The QR code is not drawn into the item (that is the challenge answer's hot path).
    assert "<svg" not in html and '<img src="/wallet/q.svg" alt="QR code of the ZelCore link"' in html
    assert 'data-eth-standard="true"' in html and "FluxOS hashes differently" not in html
    assert "cannot send the signature back" not in html


def test_it_non_ascii_message_warns_evm_users_and_long_messages_skip_zelcore():
    html = render_to_string("wallets/_sign_item.html", {"item": item(message="café " * 400)})
    assert 'data-eth-standard="false"' in html and "FluxOS hashes differently" in html
    assert 'data-method="zelcore"' not in html and "too long for a ZelCore link" in html


def test_it_local_panel_hints_that_a_phone_cannot_call_back():
    local = item(callback_url="http://127.0.0.1:8000/wallet/requests/zelcore/T/")
    html = render_to_string("wallets/_sign_item.html", {"item": local})
    assert "cannot send the signature back" in html
