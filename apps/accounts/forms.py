from django import forms
from django.contrib.auth import get_user_model, password_validation

from apps.accounts.models import AuditEntry, Role


class TeamForm(forms.Form):
    name = forms.CharField(max_length=80, strip=True)


class InvitationForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class NewAccountForm(forms.Form):
    username = forms.CharField(max_length=150, strip=True)
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("This username is taken.")
        return username

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password"):
            user = get_user_model()(username=cleaned.get("username", ""))
            try:
                password_validation.validate_password(cleaned["password"], user)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class FirstUserForm(NewAccountForm):
    team_name = forms.CharField(max_length=80, strip=True, label="Your team's name")


def audit_action_choices():
    """Every action that exists (apps.accounts.audit.AuditEvent), grouped by its area."""
    from apps.accounts.audit import AuditEvent

    groups: dict[str, list] = {}
    for event in AuditEvent:
        groups.setdefault(event.value.split(".")[0].replace("_", " ").capitalize(), []).append(
            (event.value, event.label))
    return [("", "any action"), *groups.items()]


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(required=False, choices=audit_action_choices)
    actor = forms.CharField(required=False, max_length=150)
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "any outcome"), *AuditEntry.Outcome.choices],
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
