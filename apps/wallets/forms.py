"""Forms of the wallet pages; every one refuses keys and seeds (SecretsGuardMixin)."""
from django import forms

from apps.nodes.models import Node
from apps.wallets.secrets_guard import SecretsGuardMixin
from apps.wallets.zelids import is_zelid

ZELID_HELP = "A 1… address (ZelCore, SSP) or an 0x… address (MetaMask and other EVM wallets)."
ZELID_INPUT = forms.TextInput(attrs={"size": 44, "class": "mono", "spellcheck": "false",
                                     "autocomplete": "off"})


def clean_zelid_text(value: str) -> str:
    value = (value or "").strip()
    if not is_zelid(value):
        raise forms.ValidationError("That is not a ZelID. " + ZELID_HELP)
    return value


class SignatureForm(SecretsGuardMixin, forms.Form):
    """What a wallet hands back: who signed, what, and the signature."""

    bare_hex_is_key = ("address", "signature")

    address = forms.CharField(max_length=200)
    signature = forms.CharField(max_length=1000)
    # Not stripped: a message with a space more is another message.
    message = forms.CharField(max_length=20000, strip=False)
    via = forms.ChoiceField(required=False, choices=[(v, v) for v in (
        "", "ssp", "evm", "zelcore", "paste")])

    def __init__(self, *args, expected_message: str = "", **kwargs):
        self.expected_message = expected_message
        super().__init__(*args, **kwargs)

    def secret_allowed(self, name, value):
        # The server's own message is checked byte for byte elsewhere.
        return name == "message" and bool(self.expected_message) and value == self.expected_message


class PrepareLoginForm(SecretsGuardMixin, forms.Form):
    bare_hex_is_key = ("zelid",)
    zelid = forms.CharField(max_length=64, label="ZelID", help_text=ZELID_HELP, widget=ZELID_INPUT)
    node = forms.ModelChoiceField(queryset=Node.objects.none(), required=False,
                                  empty_label="Every node this ZelID owns")

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = Node.objects.filter(team=team).order_by("name")

    def clean_zelid(self):
        return clean_zelid_text(self.cleaned_data["zelid"])


class AppOwnerForm(SecretsGuardMixin, forms.Form):
    bare_hex_is_key = ("zelid",)
    zelid = forms.CharField(max_length=64, label="App owner ZelID", help_text=ZELID_HELP,
                            widget=ZELID_INPUT)

    def clean_zelid(self):
        return clean_zelid_text(self.cleaned_data["zelid"])
