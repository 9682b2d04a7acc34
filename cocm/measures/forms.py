from collections.abc import Iterable

from django import forms

from cocm.domain.instruments import INSTRUMENTS, Instrument
from cocm.measures.models import Channel, Method, SafetyAlert, TreatmentChange
from cocm.registry.forms import DateInput
from cocm.registry.models import Guardian

INSTRUMENT_CHOICES = [(code, code) for code in INSTRUMENTS]


def item_fields(instrument: Instrument, language: str, *, required: bool, prefix: str = ""):  # type: ignore[no-untyped-def]
    """One radio group per item, labelled in the given language, valued by option index."""
    fields = {}
    for item in instrument.items:
        choices = [
            (str(index), option.es if language == "es" else option.en)
            for index, option in enumerate(item.options)
        ]
        fields[f"{prefix}item_{item.number}"] = forms.ChoiceField(
            label=f"{item.number}. {item.es if language == 'es' else item.en}",
            choices=choices,
            widget=forms.RadioSelect,
            required=required,
        )
    return fields


def answers_from(instrument: Instrument, data: dict, prefix: str = "") -> list[int | None]:
    return [
        int(data[key]) if data.get(key := f"{prefix}item_{item.number}") not in (None, "") else None
        for item in instrument.items
    ]


class AssessmentForm(forms.Form):
    taken_on = forms.DateField(widget=DateInput, label="Date taken")
    method = forms.ChoiceField(
        choices=[c for c in Method.choices if c[0] != Method.SELF_REPORT], label="How"
    )

    def __init__(self, *args, instrument: Instrument, guardians: Iterable[Guardian] = (), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.guardians = list(guardians)
        if self.guardians:
            # Patients under 18: the teen or a guardian answers (docs/pediatric.md).
            self.fields["respondent"] = forms.ChoiceField(
                choices=[
                    ("patient", "The patient"),
                    *[(str(g.id), str(g)) for g in self.guardians],
                ],
                label="Answered by",
            )
        self.fields.update(item_fields(instrument, "en", required=False))

    def answers(self) -> list[int | None]:
        return answers_from(self.instrument, self.cleaned_data)

    def respondent(self) -> tuple[str, Guardian | None]:
        """("patient", None) or ("guardian", the guardian chosen)."""
        chosen = self.cleaned_data.get("respondent", "patient")
        guardian = next((g for g in self.guardians if str(g.id) == chosen), None)
        return ("guardian" if guardian else "patient"), guardian

    def respondent_fields(self) -> dict[str, object]:
        """Who answered, as `record_assessment` takes it."""
        respondent, guardian = self.respondent()
        return {"respondent": respondent, "respondent_guardian": guardian}


class AmendForm(AssessmentForm):
    reason = forms.CharField(max_length=200, label="Reason for the correction")
    # The version of the record the user saw: a newer one on save is a conflicting edit.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)


class SelfReportForm(forms.Form):
    """Every questionnaire of the link on one page, in the patient's language."""

    def __init__(self, *args, instruments: list[Instrument], language: str, missing: str, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.instruments = instruments
        for instrument in instruments:
            fields = item_fields(instrument, language, required=True, prefix=f"{instrument.code}-")
            for field in fields.values():
                field.error_messages["required"] = missing
            self.fields.update(fields)

    def answers(self) -> dict[str, list[int | None]]:
        return {
            i.code: answers_from(i, self.cleaned_data, prefix=f"{i.code}-")
            for i in self.instruments
        }

    def groups(self, language: str):  # type: ignore[no-untyped-def]
        for instrument in self.instruments:
            stem = instrument.stem_es if language == "es" else instrument.stem_en
            yield stem, [self[f"{instrument.code}-item_{item.number}"] for item in instrument.items]


class InvitationForm(forms.Form):
    instruments = forms.MultipleChoiceField(
        choices=INSTRUMENT_CHOICES, widget=forms.CheckboxSelectMultiple, label="Questionnaires"
    )
    channel = forms.ChoiceField(choices=Channel.choices, widget=forms.RadioSelect, label="Send by")

    def __init__(self, *args: object, guardians: Iterable[Guardian] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        guardians = list(guardians)
        if guardians:
            # A patient under 18: the link goes to the teen or to a guardian, as chosen.
            self.fields["recipient"] = forms.ChoiceField(
                choices=[("patient", "The patient"), *[(str(g.id), str(g)) for g in guardians]],
                initial="patient",
                widget=forms.RadioSelect,
                label="Send to",
            )

    def guardian(self, guardians: Iterable[Guardian]) -> Guardian | None:
        chosen = self.cleaned_data.get("recipient", "patient")
        return next((g for g in guardians if str(g.id) == chosen), None)


class ScheduleForm(InvitationForm):
    every_days = forms.IntegerField(min_value=7, max_value=90, initial=28, label="Every (days)")
    first_on = forms.DateField(widget=DateInput, label="First on")


class AlertFollowUpForm(forms.Form):
    # Nothing preselected: the clinician says what was done, and writes it down.
    action = forms.ChoiceField(
        choices=[("", "— choose what was done —"), *SafetyAlert.Action.choices],
        label="What was done",
        error_messages={"required": "Choose what was done."},
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Note",
        error_messages={"required": "Describe what was done (a note is required)."},
    )


class TreatmentChangeForm(forms.ModelForm):
    class Meta:
        model = TreatmentChange
        fields = ["on", "kind", "description"]
        widgets = {"on": DateInput}
        labels = {"on": "Date", "description": "What changed (e.g. sertraline 50 mg daily)"}
