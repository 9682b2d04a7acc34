from django import forms
from django.conf import settings

from cocm.accounts.models import Organization, Role, User
from cocm.queryparams import MAX_ID


class DateInput(forms.DateInput):
    input_type = "date"


class OneTimeCodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\d{6}$",
        max_length=6,
        label="Six-digit code from your authenticator app",
        error_messages={"invalid": "Enter the six digits your authenticator app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TwoFactorRolesForm(forms.ModelForm):
    two_factor_roles = forms.MultipleChoiceField(
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Require a one-time code at sign-in for",
    )

    class Meta:
        model = Organization
        fields = ["two_factor_roles"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        always = [Role(r).label for r in Role if r in settings.COCM_TWO_FACTOR_ROLES]
        if always:
            self.fields[
                "two_factor_roles"
            ].help_text = f"Always required, whatever is ticked: {', '.join(always)}."


class AuditFilterForm(forms.Form):
    """Search the audit log by user, patient (name or MRN), action and period. The page posts
    the form: a patient's name or MRN never goes into a URL."""

    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    patient = forms.CharField(
        required=False, max_length=100, label="Patient (name or MRN)", strip=True
    )
    patient_id = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    action = forms.ChoiceField(required=False, label="Action")
    since = forms.DateField(required=False, widget=DateInput, label="From")
    until = forms.DateField(required=False, widget=DateInput, label="To")

    def __init__(self, *args: object, organization: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(organization=organization).order_by(
            "username"
        )
        from cocm.accounts.models import AuditEvent

        self.fields["action"].choices = [("", "any"), *AuditEvent.Action.choices]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The period ends before it starts.")
        return data


class BreakGlassForm(forms.Form):
    mrn = forms.CharField(max_length=32, label="Patient MRN")
    reason = forms.CharField(
        min_length=10,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason for emergency access",
        help_text="Recorded in the audit log and reviewed by your organization admin.",
    )
