import pytest

from fluxpanel import vault


def test_it_round_trip_and_no_plaintext(settings):
    settings.ENCRYPTION_KEY = "k1"
    token = vault.encrypt("H8Zs3pecialSignature==")
    assert "H8Zs3pecialSignature" not in token
    assert vault.decrypt(token) == "H8Zs3pecialSignature=="


def test_it_other_key_or_tampering_is_refused(settings):
    settings.ENCRYPTION_KEY = "k1"
    token = vault.encrypt("secret")
    settings.ENCRYPTION_KEY = "k2"
    with pytest.raises(vault.InvalidToken):
        vault.decrypt(token)
    settings.ENCRYPTION_KEY = "k1"
    with pytest.raises(vault.InvalidToken):
        vault.decrypt(token[:-4] + "AAAA")
