from django import forms

from apps.nodes.models import AlertRule, MaintenanceClaim, NodeGroup


class RegisterForm(forms.Form):
    nodes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "203.0.113.7\n203.0.113.8:16137 my-second-node"}),
        help_text="One node per line: IP or host, optionally :port (16127…16197), optionally a name.",
    )
    group = forms.ModelChoiceField(queryset=NodeGroup.objects.none(), required=False)
    provider = forms.CharField(max_length=80, required=False)

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = NodeGroup.objects.filter(team=team)


class OwnerImportForm(forms.Form):
    owner = forms.CharField(max_length=64, label="Owner address (ZelID / collateral address)")
    source = forms.ModelChoiceField(queryset=None, label="Ask this registered node for the node list")

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        from apps.nodes.models import Node

        self.fields["source"].queryset = Node.objects.filter(team=team)


class NodeLabelsForm(forms.Form):
    name = forms.CharField(max_length=100)
    group = forms.ModelChoiceField(queryset=NodeGroup.objects.none(), required=False)
    provider = forms.CharField(max_length=80, required=False)
    monthly_cost = forms.DecimalField(max_digits=10, decimal_places=2, required=False, min_value=0)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = NodeGroup.objects.filter(team=team)


class GroupForm(forms.Form):
    name = forms.CharField(max_length=80)


class IntervalForm(forms.Form):
    seconds = forms.IntegerField(min_value=15, max_value=86_400, label="Sweep every (seconds)")


class AlertRuleForm(forms.Form):
    kind = forms.ChoiceField(choices=AlertRule.Kind.choices)
    threshold = forms.IntegerField(min_value=0, max_value=AlertRule.MAX_THRESHOLD, required=False,
                                   help_text="Blocks behind, minutes of maintenance window left, "
                                             "or days before an app expires (1…365)")
    email = forms.CharField(max_length=500, required=False, help_text="Comma-separated addresses")
    webhook_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    def clean_email(self):
        value = self.cleaned_data["email"]
        from django.core.validators import validate_email

        for address in [a.strip() for a in value.split(",") if a.strip()]:
            validate_email(address)
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == AlertRule.Kind.APP_EXPIRES:
            days = cleaned.get("threshold")
            if days is None or not 1 <= days <= 365:
                self.add_error("threshold", "Give the number of days before expiry (1…365).")
        return cleaned

    def clean_webhook_url(self):
        from apps.nodes.alerts import webhook_problem

        url = self.cleaned_data["webhook_url"]
        problem = webhook_problem(url) if url else None
        if problem:
            raise forms.ValidationError(f"Webhook refused: {problem}.")
        return url


class ClaimForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=MaintenanceClaim.MAX_MINUTES, initial=60)
    note = forms.CharField(max_length=200, required=False)
