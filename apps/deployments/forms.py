"""Forms of the owners/sources page; every one refuses keys and seeds (SecretsGuardMixin)."""
from django import forms

from apps.deployments.actions import (
    APP_NAME_MAX,
    GATEWAY_MAX,
    INTERVAL_MAX,
    INTERVAL_MIN,
    LABEL_MAX,
)
from apps.wallets.secrets_guard import SecretsGuardMixin


class WatchedOwnerForm(SecretsGuardMixin, forms.Form):
    bare_hex_is_key = ("address",)

    address = forms.CharField(max_length=200, label="Owner address (ZelID)",
                              help_text="A 1…/3… address or an 0x… address; watched read-only.",
                              widget=forms.TextInput(attrs={"size": 44, "class": "mono", "spellcheck": "false",
                                                            "autocomplete": "off"}))
    label = forms.CharField(max_length=LABEL_MAX, required=False)


class SourcesForm(SecretsGuardMixin, forms.Form):
    source_node = forms.CharField(required=False, label="Source node")
    gateway_url = forms.CharField(max_length=GATEWAY_MAX, required=False, label="Gateway URL",
                                  help_text="A FluxOS API gateway, e.g. https://api.runonflux.io (optional).")
    interval_seconds = forms.IntegerField(min_value=INTERVAL_MIN, max_value=INTERVAL_MAX, label="Sync every (s)")

    def __init__(self, *args, nodes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source_node"].widget = forms.Select(
            choices=[("", "— none (gateway, then confirmed nodes) —")] + [(n.pk, f"{n.name} ({n.address})")
                                                                          for n in nodes])


class AppAddForm(SecretsGuardMixin, forms.Form):
    name = forms.CharField(max_length=APP_NAME_MAX, label="App name")
