"""The secrets guard: keys, WIFs, extended keys and seed phrases are refused anywhere in a form,
and nothing of the submission is kept."""
import pytest
from django import forms
from django.http import QueryDict
from mnemonic import Mnemonic

from apps.wallets.secrets_guard import SecretsGuardMixin, find_secret
from fluxpanel.fluxos.crypto import base58check_encode
from fluxpanel.fluxos.signatures import sign_message
from tests.sim import keys

HEX = keys.USER.private_key_hex
WIF_COMPRESSED = base58check_encode(b"\x80" + bytes.fromhex(HEX) + b"\x01")
WIF_UNCOMPRESSED = base58check_encode(b"\x80" + bytes.fromhex(HEX))
WIF_TESTNET = base58check_encode(b"\xef" + bytes.fromhex(HEX) + b"\x01")
XPRV = base58check_encode(bytes.fromhex("0488ade4") + bytes(9) + bytes(32) + b"\x00" + bytes.fromhex(HEX))


@pytest.mark.parametrize(("value", "kind"), [
    (HEX, "hex"), ("0x" + HEX, "hex"), (f"  {HEX.upper()}\n", "hex"), (f"my key:\n{HEX}", "hex"),
    (WIF_COMPRESSED, "wif"), (WIF_UNCOMPRESSED, "wif"), (WIF_TESTNET, "wif"),
    (f"here it is {WIF_COMPRESSED} thanks", "wif"), (XPRV, "xprv"),
    (Mnemonic("english").generate(128), "seed"), (Mnemonic("english").generate(256), "seed"),
    ("1. " + " 2. ".join(Mnemonic("english").generate(128).split()), "seed"),
    (Mnemonic("english").generate(128).upper().replace(" ", ", "), "seed"),
])
def test_secrets_are_recognised(value, kind):
    assert find_secret(value) == kind


@pytest.mark.parametrize("value", [
    keys.USER.zelid, keys.ETH_USER.zelid,
    sign_message("hello", HEX), sign_message("hello", HEX, kind="eth"),
    "1700000000000abcdefghijklmnopqrstuvwxyz0123456789",
    f"txid {HEX} was paid",  # a 64-hex token inside a sentence is a hash, not a key
    "nginx@sha256:" + HEX,
    "Please review this change before we deploy it to all our nodes today because the old one is bad",
    "Log in to node alpha so that operators can restart the app after the upgrade this week",
    "", None, 12345,
])
def test_ordinary_values_pass(value):
    assert find_secret(value) is None


class NoteForm(SecretsGuardMixin, forms.Form):
    note = forms.CharField()


def test_mixin_refuses_any_field_even_undeclared_and_keeps_nothing():
    data = QueryDict(mutable=True)
    data.update({"note": "hello", "extra": WIF_COMPRESSED})
    form = NoteForm(data)
    assert not form.is_valid()
    assert form.secret_refused == ("extra", "wif")
    assert "looks like a private key in WIF format" in form.non_field_errors()[0]
    assert dict(form.data) == {}  # nothing of the submission survives, the note included
    assert WIF_COMPRESSED not in form.as_p()


def test_mixin_names_the_field_when_declared():
    form = NoteForm({"note": Mnemonic("english").generate(128)})
    assert not form.is_valid()
    assert list(form.errors) == ["note"] and "seed phrase" in form.errors["note"][0]
    assert NoteForm({"note": "all fine"}).is_valid()
