from django import forms

from cocm.accounts.models import Clinic, User
from cocm.domain.implementation import Phase, TaskStatus
from cocm.domain.surveys import SURVEYS, Survey
from cocm.measures.models import Channel
from cocm.registry.forms import DateInput


class SurveyAnswersForm(forms.Form):
    """One five-point question per field; any may be skipped (the service wants one answer)."""

    def __init__(
        self, *args: object, survey: Survey, language: str = "en", **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.survey = survey
        for question in survey.questions:
            self.fields[f"q{question.number}"] = forms.TypedChoiceField(
                label=question.es if language == "es" else question.en,
                choices=[
                    (value, es if language == "es" else en) for value, en, es in question.options
                ],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )

    def answers(self) -> list[int | None]:
        return [self.cleaned_data.get(f"q{q.number}") for q in self.survey.questions]


STAFF_SURVEYS = [(code, s.name) for code, s in SURVEYS.items() if s.anonymous]


class SendStaffSurveyForm(forms.Form):
    survey = forms.ChoiceField(choices=STAFF_SURVEYS)
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none())

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = Clinic.objects.filter(id__in=user.clinic_ids)


class SendPatientSurveyForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices, widget=forms.RadioSelect, label="Send by")


class ResultsFilterForm(forms.Form):
    survey = forms.ChoiceField(choices=[(code, s.name) for code, s in SURVEYS.items()])
    start = forms.RegexField(regex=r"^\d{4}-\d{2}$", max_length=7, label="From (YYYY-MM)")
    end = forms.RegexField(regex=r"^\d{4}-\d{2}$", max_length=7, label="To (YYYY-MM)")


class TaskForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    due_on = forms.DateField(required=False, widget=DateInput, label="Due")
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in TaskStatus])

    def __init__(self, *args: object, clinic: Clinic, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            User.objects.filter(memberships__clinic=clinic, is_active=True)
            .distinct()
            .order_by("last_name", "first_name")
        )


class TemplateTaskForm(forms.Form):
    phase = forms.ChoiceField(choices=[(p.value, p.label) for p in Phase])
    title = forms.CharField(max_length=200)
