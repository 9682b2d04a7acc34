import re

from django import forms

from cocm.care.models import Activity, FollowUp, Mode, Recommendation, TimeRole
from cocm.errors import InvalidRequest
from cocm.registry.forms import DateInput


class ContactForm(forms.Form):
    occurred_on = forms.DateField(widget=DateInput, label="Date")
    minutes = forms.IntegerField(
        min_value=0,
        max_value=1440,
        label="Minutes",
        widget=forms.NumberInput(attrs={"data-timer-target": "minutes"}),
    )
    mode = forms.ChoiceField(choices=Mode.choices)
    activity = forms.ChoiceField(choices=Activity.choices)
    role = forms.ChoiceField(
        choices=TimeRole.choices, label="Whose time", initial=TimeRole.CARE_MANAGER
    )
    separately_billed = forms.BooleanField(
        required=False, label="Separately billed service (e.g. psychotherapy): not CoCM time"
    )
    no_show = forms.BooleanField(required=False, label="No-show / not reached")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    next_contact_on = forms.DateField(widget=DateInput, required=False, label="Next contact due")
    started_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)


class ContactEditForm(ContactForm):
    """A logged contact corrected, with the version the user saw."""

    next_contact_on = None
    started_at = None
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ReviewRequestForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="What should the consultant discuss?",
        error_messages={"required": "Say what you want to discuss."},
    )


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(widget=DateInput, label="Review date")
    minutes = forms.IntegerField(min_value=1, max_value=1440)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    # Shown only when the patient was already reviewed that day (the service asks).
    confirm_same_day = forms.BooleanField(
        required=False,
        widget=forms.HiddenInput,
        label="Yes, record a second review of this patient on the same day",
    )
    # The version of the episode the user saw: a newer one on save is a conflicting edit.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)


class RecommendationForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "—"), *Recommendation.Kind.choices], required=False, label="Recommendation"
    )
    medication = forms.CharField(max_length=100, required=False)
    dose = forms.CharField(max_length=100, required=False)
    text = forms.CharField(max_length=500, required=False, label="Details")


RecommendationFormSet = forms.formset_factory(
    RecommendationForm, extra=3, max_num=6, validate_max=True
)


class ResponseForm(forms.Form):
    status = forms.ChoiceField(
        choices=[c for c in Recommendation.Status.choices if c[0] != Recommendation.Status.PENDING],
        widget=forms.RadioSelect,
        label="Answer",
        error_messages={"required": "Choose accept, modify or decline."},
    )
    note = forms.CharField(
        max_length=500, required=False, label="Note (what you changed, or why you declined)"
    )
    # The version of the record the user saw: a newer one on save is a conflicting edit.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)


class ReviewAnswerForm(ResponseForm):
    """One recommendation's answer on the review's page; left blank, it waits."""

    status = forms.ChoiceField(
        choices=[("", "Answer later"), *ResponseForm.base_fields["status"].choices],
        widget=forms.RadioSelect,
        required=False,
        label="Answer",
    )


class ReviewAnswersForm(forms.Form):
    """The answers to every recommendation of a review waiting for this PCP: one
    `ReviewAnswerForm` per recommendation (fields `rec<id>-status`, `rec<id>-note`), valid
    and saved together."""

    def __init__(self, data: object, *, recommendations: list[Recommendation]) -> None:
        super().__init__(data)
        self.answers = [
            (
                rec,
                ReviewAnswerForm(data, prefix=f"rec{rec.id}", initial={"version": rec.version}),
            )
            for rec in recommendations
        ]

    def is_valid(self) -> bool:
        return all([super().is_valid(), *(form.is_valid() for _, form in self.answers)])

    def chosen(self) -> list[tuple[Recommendation, dict[str, str]]]:
        """(recommendation, cleaned answer) of each recommendation answered now."""
        return [
            (rec, form.cleaned_data) for rec, form in self.answers if form.cleaned_data["status"]
        ]

    def refused(self, error: InvalidRequest) -> None:
        """A service refusal `recommendations[<id>].<field>` onto that recommendation's form."""
        forms_by_id = {rec.id: form for rec, form in self.answers}
        match = re.fullmatch(r"recommendations\[(\d+)\]\.(\w+)", error.field)
        if match and int(match[1]) in forms_by_id:
            answer, field = forms_by_id[int(match[1])], match[2]
            # A hidden field's error (a stale version) shows above that recommendation's answer.
            shown = field in answer.fields and not answer.fields[field].widget.is_hidden
            answer.add_error(field if shown else None, error.message)
        else:
            self.add_error(None, error.message)


class RelapsePlanForm(forms.Form):
    warning_signs = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    coping_steps = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    whom_to_call = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    # The version of the plan the user saw (empty: they saw no plan yet).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)


class FollowUpForm(forms.Form):
    due_on = forms.DateField(
        widget=DateInput,
        label="Next contact due",
        error_messages={"required": "Give the date the next contact is due."},
    )
    what = forms.CharField(max_length=200, required=False, label="What")
    # The open follow-up the page showed (0: none) and its version: set by someone else
    # since, it is a conflicting edit.
    replaces = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    @classmethod
    def showing(cls, follow_up: FollowUp | None) -> "FollowUpForm":
        """The form under the episode's open follow-up as the page shows it."""
        if follow_up is None:
            return cls(initial={"replaces": 0})
        return cls(initial={"replaces": follow_up.id, "version": follow_up.version})


class FollowUpDoneForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)
