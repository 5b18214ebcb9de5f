"""The calculator's form: a pasted spec, or resources that build a one-component v8 spec."""
from __future__ import annotations

import json

from django import forms

from fluxpanel.fluxos.client import MAX_HEIGHT

MAX_SPEC_CHARS = 100_000


class CalculatorForm(forms.Form):
    MODES = [("resources", "Resources"), ("spec", "Paste a spec (JSON)")]

    mode = forms.ChoiceField(choices=MODES, initial="resources", widget=forms.RadioSelect)
    spec = forms.CharField(required=False, max_length=MAX_SPEC_CHARS, label="Spec JSON",
                           widget=forms.Textarea(attrs={"rows": 8, "class": "mono"}))
    cpu = forms.DecimalField(initial=0.5, min_value=0.1, max_value=15, decimal_places=1, label="CPU (cores)")
    ram = forms.IntegerField(initial=500, min_value=100, max_value=59000, label="RAM (MB)")
    hdd = forms.IntegerField(initial=5, min_value=1, max_value=820, label="Disk (GB)")
    instances = forms.IntegerField(initial=3, min_value=3, max_value=100)
    months = forms.IntegerField(initial=1, min_value=1, max_value=12, label="Period (months)")
    staticip = forms.BooleanField(required=False, label="Static IP")
    enterprise = forms.BooleanField(required=False)
    height = forms.IntegerField(required=False, min_value=1, max_value=MAX_HEIGHT - 1,
                                label="Block height", help_text="Empty: the source's current height.")

    def clean(self):
        data = super().clean()
        if data.get("mode") == "spec":
            text = (data.get("spec") or "").strip()
            if not text:
                self.add_error("spec", "Paste an app spec (JSON) to price it.")
                return data
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as error:
                self.add_error("spec", f"This is not valid JSON: {error.msg} at line {error.lineno}, "
                                       f"column {error.colno}.")
                return data
            if not isinstance(parsed, dict):
                self.add_error("spec", "The spec must be a JSON object ({…}).")
                return data
            data["parsed_spec"] = parsed
        return data

    def full_clean(self):
        super().full_clean()
        # In spec mode the resource fields do not matter: their errors are not the user's concern.
        if self.data.get("mode") == "spec" and hasattr(self, "cleaned_data"):
            for name in ("cpu", "ram", "hdd", "instances", "months", "staticip", "enterprise"):
                self._errors.pop(name, None)
