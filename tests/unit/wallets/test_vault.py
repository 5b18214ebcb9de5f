"""Sealing bearer secrets at rest."""
import pytest

from fluxpanel import vault

TRIPLE = {"zelid": "1abc", "loginPhrase": "1700000000000abc", "signature": "SIGNATURE+/="}


def test_it_seal_round_trip_hides_the_values():
    token = vault.seal(TRIPLE)
    assert vault.unseal(token) == TRIPLE
    assert "SIGNATURE" not in token and "1700000000000" not in token
    assert vault.seal(TRIPLE) != token  # a fresh IV each time


def test_it_other_purpose_other_key_or_tampering_cannot_open(settings):
    token = vault.seal(TRIPLE)
    with pytest.raises(vault.VaultError):
        vault.unseal(token, purpose="worldstate.tokens")
    with pytest.raises(vault.VaultError):
        vault.unseal(token[:-4] + "AAAA")
    with pytest.raises(vault.VaultError):
        vault.unseal("not a token")
    settings.ENCRYPTION_KEY = "another key from the environment"
    with pytest.raises(vault.VaultError) as error:
        vault.unseal(token)
    assert token not in str(error.value)
