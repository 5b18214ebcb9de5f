"""The secrets guard: keys, WIFs, extended keys and seed phrases are refused anywhere in a form,
and nothing of the submission is kept."""
import json

import pytest
from django import forms
from django.http import QueryDict
from mnemonic import Mnemonic

from apps.wallets.secrets_guard import SecretsGuardMixin, find_secret, secret_name
from fluxpanel.fluxos.crypto import base58check_encode
from fluxpanel.fluxos.signatures import sign_message
from tests.sim import keys

HEX = keys.USER.private_key_hex
WIF_COMPRESSED = base58check_encode(b"\x80" + bytes.fromhex(HEX) + b"\x01")
WIF_UNCOMPRESSED = base58check_encode(b"\x80" + bytes.fromhex(HEX))
WIF_TESTNET = base58check_encode(b"\xef" + bytes.fromhex(HEX) + b"\x01")
# Fixed entropy: parametrized values must be the same in every pytest-xdist worker.
SEED_12 = Mnemonic("english").to_mnemonic(bytes(range(16)))
SEED_24 = Mnemonic("english").to_mnemonic(bytes(range(100, 132)))
XPRV = base58check_encode(bytes.fromhex("0488ade4") + bytes(9) + bytes(32) + b"\x00" + bytes.fromhex(HEX))


@pytest.mark.parametrize(("value", "kind"), [
    (f"key:{HEX}", "hex"), (f"privkey=0x{HEX}", "hex"), (f"  PRIVATE_KEY: {HEX.upper()}\n", "hex"),
    (f"my key:\n{HEX}", "hex"), (json.dumps({"privkey": HEX}), "hex"),
    (json.dumps({"wallet": {"secret": "0x" + HEX}}), "hex"), (json.dumps({"keys": [HEX]}), "hex"),
    (f"the seed is {HEX}", "hex"),
    (WIF_COMPRESSED, "wif"), (WIF_UNCOMPRESSED, "wif"), (WIF_TESTNET, "wif"),
    (f"here it is {WIF_COMPRESSED} thanks", "wif"), (XPRV, "xprv"),
    (SEED_12, "seed"), (SEED_24, "seed"),
    ("1. " + " 2. ".join(SEED_12.split()), "seed"),
    (SEED_12.upper().replace(" ", ", "), "seed"),
])
def test_it_secrets_are_recognised(value, kind):
    assert find_secret(value) == kind


@pytest.mark.parametrize("value", [
    keys.USER.zelid, keys.ETH_USER.zelid,
    sign_message("hello", HEX), sign_message("hello", HEX, kind="eth"),
    "1700000000000abcdefghijklmnopqrstuvwxyz0123456789",
    f"txid {HEX} was paid",  # a 64-hex token inside a sentence is a hash, not a key
    HEX, "0x" + HEX, f"  {HEX.upper()}\n",  # alone, unlabelled: a txid field must take one
    f"pubkey: {HEX}", json.dumps({"keyhash": HEX}), json.dumps({"txid": HEX}),
    f"key:{HEX}00",  # 66 hex digits: not a private key
    "nginx@sha256:" + HEX,
    "Please review this change before we deploy it to all our nodes today because the old one is bad",
    "Log in to node alpha so that operators can restart the app after the upgrade this week",
    "", None, 12345,
])
def test_it_ordinary_values_pass(value):
    assert find_secret(value) is None


class NoteForm(SecretsGuardMixin, forms.Form):
    note = forms.CharField()


def test_it_mixin_refuses_any_field_even_undeclared_and_keeps_nothing():
    data = QueryDict(mutable=True)
    data.update({"note": "hello", "extra": WIF_COMPRESSED})
    form = NoteForm(data)
    assert not form.is_valid()
    assert form.secret_refused == ("extra", "wif")
    assert "looks like a private key in WIF format" in form.non_field_errors()[0]
    assert dict(form.data) == {}  # nothing of the submission survives, the note included
    assert WIF_COMPRESSED not in form.as_p()


def test_it_mixin_names_the_field_when_declared():
    form = NoteForm({"note": Mnemonic("english").generate(128)})
    assert not form.is_valid()
    assert list(form.errors) == ["note"] and "seed phrase" in form.errors["note"][0]
    assert NoteForm({"note": "all fine"}).is_valid()


@pytest.mark.parametrize("language", Mnemonic.list_languages())
def test_it_recognises_seed_phrases_of_every_bip39_language(language):
    words = Mnemonic(language).generate(128)
    assert find_secret(words) == "seed"
    assert find_secret(" ".join(words.split())) == "seed"  # Japanese ideographic spaces or not


def test_it_recognises_a_russian_seed_with_the_wordlists_broken_word():
    # 1 draw in about 110 of the test above holds it; this one always does.
    broken = next(word for word in Mnemonic("russian").wordlist if "\ufffd" in word)
    words = Mnemonic("russian").wordlist[:11] + [broken]
    assert find_secret(" ".join(words)) == "seed"


@pytest.mark.parametrize("language", ["spanish", "french", "italian", "portuguese", "czech"])
def test_it_recognises_seed_words_typed_without_their_accents(language):
    import unicodedata

    words = Mnemonic(language).generate(256)
    plain = "".join(c for c in unicodedata.normalize("NFKD", words) if not unicodedata.combining(c))
    assert find_secret(plain) == "seed"


@pytest.mark.parametrize("text", [
    "Por favor revise este cambio antes de desplegarlo en todos nuestros nodos hoy porque el anterior es malo",
    "Merci de vérifier ce changement avant de le déployer sur tous nos noeuds aujourd'hui car l'ancien est mauvais",
    "Per favore controlla questa modifica prima di distribuirla su tutti i nostri nodi oggi perché la vecchia è rotta",
    "请在今天把这个改动部署到我们所有的节点之前先检查一下因为旧的版本有问题",
])
def test_it_lets_ordinary_prose_of_other_languages_through(text):
    assert find_secret(text) is None


def test_it_takes_a_bare_64_hex_value_as_a_key_only_where_the_field_says_so():
    assert find_secret(HEX, "txid") is None
    assert find_secret(HEX, "private_key") == "hex"
    assert find_secret(HEX, "pubkey") is None
    assert find_secret(HEX, "signature", hex_field=True) == "hex"


@pytest.mark.parametrize("name, secret", [
    ("DB_PASSWORD", True), ("api_key", True), ("PRIVKEY", True), ("AWS_SECRET_ACCESS_KEY", True),
    ("GITHUB_TOKEN", True), ("wallet_seed", True), ("SMTP_CREDENTIALS", True), ("KEY", True),
    ("KEYBOARD_LAYOUT", False), ("PATH", False), ("TZ", False), ("LOG_LEVEL", False), ("", False),
])
def test_it_tells_a_secret_name(name, secret):
    assert secret_name(name) is secret
