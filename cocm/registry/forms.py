from django import forms

from cocm.accounts.models import Clinic, Role, User
from cocm.domain.diagnoses import DiagnosisCodeError, normalize_icd10cm
from cocm.domain.episodes import ConsentMethod, DischargeReason, EpisodeStatus
from cocm.registry.models import BillingProgram, Coverage, Episode, Guardian, Patient, PayerKind
from cocm.registry.services import TEAM_ROLES, CareTeam, Consent, CoverageData, GuardianData


class DateInput(forms.DateInput):
    input_type = "date"


def staff_choices(
    user: User, role: Role, clinic_ids: object = None, label: str | None = None
) -> forms.ModelChoiceField:
    """Active staff with the role at these clinics (default: the user's clinics)."""
    staff = (
        User.objects.filter(
            organization=user.organization,
            is_active=True,
            memberships__role=role,
            memberships__clinic_id__in=user.clinic_ids if clinic_ids is None else clinic_ids,
        )
        .distinct()
        .order_by("last_name", "first_name")
    )
    return forms.ModelChoiceField(queryset=staff, required=False, label=label or role.label)


def care_team(data: dict) -> CareTeam:
    """The care team a form chose (care manager, consultant, PCP; each may be empty)."""
    return CareTeam(
        care_manager=data["care_manager"],
        psychiatric_consultant=data["psychiatric_consultant"],
        referring_pcp=data["referring_pcp"],
    )


class CareTeamForm(forms.Form):
    """The episode's care team: only staff of the episode's clinic, in the right role."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(
        self,
        *args: object,
        user: User,
        clinic: Clinic,
        episode: Episode | None = None,
        **kwargs: object,
    ) -> None:
        if episode is not None:  # the team as it is, and the version read
            kwargs.setdefault(
                "initial",
                {"version": episode.version}
                | {field: getattr(episode, f"{field}_id") for field in TEAM_ROLES},
            )
        super().__init__(*args, **kwargs)
        here = [clinic.id]
        self.fields["care_manager"] = staff_choices(user, Role.CARE_MANAGER, here)
        self.fields["psychiatric_consultant"] = staff_choices(
            user, Role.PSYCHIATRIC_CONSULTANT, here
        )
        self.fields["referring_pcp"] = staff_choices(user, Role.PCP, here, label="PCP")


class PatientForm(forms.ModelForm):
    payer_kind = forms.ChoiceField(
        choices=[("", "—"), *PayerKind.choices], required=False, label="Payer"
    )
    payer_name = forms.CharField(max_length=100, required=False, label="Plan name")
    member_id = forms.CharField(max_length=64, required=False, label="Member ID")
    coverage_starts_on = forms.DateField(
        required=False, widget=DateInput, label="Coverage starts on"
    )

    class Meta:
        model = Patient
        fields = [
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "preferred_language",
            "phone",
            "email",
        ]
        widgets = {"birth_date": DateInput}

    def clean(self) -> dict:
        data = super().clean()
        if data.get("payer_kind") and not data.get("coverage_starts_on"):
            self.add_error("coverage_starts_on", "Give the date the coverage starts.")
        return data

    def patient_fields(self) -> dict[str, object]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def coverage(self) -> CoverageData | None:
        """The payer's coverage given at registration, if any."""
        data = self.cleaned_data
        if not data.get("payer_kind"):
            return None
        return CoverageData(
            payer_kind=data["payer_kind"],
            payer_name=data["payer_name"],
            member_id=data["member_id"],
            starts_on=data["coverage_starts_on"],
        )


class PatientEditForm(forms.ModelForm):
    """Demographics, with the version read so a concurrent edit is detected on save."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = Patient
        fields = PatientForm.Meta.fields
        widgets = {"birth_date": DateInput}

    def validate_unique(self) -> None:
        # The service checks the MRN and reports a clash with a clear message.
        pass


class CoverageForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = Coverage
        fields = ["payer_kind", "payer_name", "member_id", "starts_on", "ends_on"]
        widgets = {"starts_on": DateInput, "ends_on": DateInput}

    def clean(self) -> dict:
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            # Named here: the model's check constraint would report it for the whole form.
            self.add_error(
                "ends_on", f"The coverage ends ({ends_on}) before it starts ({starts_on})."
            )
        return data

    def coverage_fields(self) -> dict[str, object]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def parse_codes(raw: str) -> list[str]:
    codes = [part for part in raw.replace(";", ",").replace(" ", ",").split(",") if part]
    normalized = []
    for code in codes:
        try:
            normalized.append(normalize_icd10cm(code))
        except DiagnosisCodeError as error:
            raise forms.ValidationError(str(error)) from error
    return normalized


class ConsentFields(forms.Form):
    consent_on = forms.DateField(required=False, widget=DateInput, label="Consent date")
    consent_method = forms.ChoiceField(
        choices=[("", "—"), *[(m.value, m.value.capitalize()) for m in ConsentMethod]],
        required=False,
        label="How consent was given",
    )
    # The two Medicare disclosures (cocm-rules.md 1.5); the service requires both.
    cost_sharing_explained = forms.BooleanField(
        required=False, label="Patient told that cost sharing (copay, coinsurance) may apply"
    )
    psychiatric_consultation_explained = forms.BooleanField(
        required=False,
        label="Patient agreed to psychiatric consultation about their care",
    )
    consent_document = forms.FileField(
        required=False,
        label="Signed consent form (written consent: PDF, PNG or JPEG)",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
    # Patients under 18 (docs/pediatric.md): shown only when the patient has guardians.
    consent_guardian = forms.ModelChoiceField(
        queryset=Guardian.objects.none(),
        required=False,
        label="Consent given by (parent or guardian)",
    )
    patient_assent = forms.BooleanField(required=False, label="The patient gave their assent")

    def __init__(self, *args: object, patient: Patient | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        guardians = patient.guardians.all() if patient is not None else Guardian.objects.none()
        if patient is None or not guardians.exists():
            del self.fields["consent_guardian"]
            if patient is None or patient.age_on(patient.organization.today()) >= 18:
                del self.fields["patient_assent"]
        else:
            self.fields["consent_guardian"].queryset = guardians

    def consent(self, user: User) -> Consent | None:
        data = self.cleaned_data
        if not data.get("consent_on"):
            return None
        return Consent(
            data["consent_on"],
            data["consent_method"],
            user,
            cost_sharing_explained=data["cost_sharing_explained"],
            psychiatric_consultation_explained=data["psychiatric_consultation_explained"],
            document=data.get("consent_document"),
            guardian=data.get("consent_guardian"),
            patient_assent=bool(data.get("patient_assent")),
        )

    def clean(self) -> dict:
        data = super().clean()
        if bool(data.get("consent_on")) != bool(data.get("consent_method")):
            self.add_error("consent_method", "Give both the consent date and how it was given.")
        return data


class ReferralForm(ConsentFields):
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none())
    referred_on = forms.DateField(widget=DateInput, label="Referral date")
    diagnoses = forms.CharField(
        required=False,
        label="Provisional diagnoses (ICD-10-CM)",
        help_text="Separate codes with commas, e.g. F32.1, F41.1",
    )
    initiating_visit_on = forms.DateField(
        required=False, widget=DateInput, label="Initiating visit (billing practitioner)"
    )
    billing_program = forms.ChoiceField(choices=BillingProgram.choices, initial="cocm")

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        kwargs.setdefault("initial", self.defaults(user))
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = Clinic.objects.filter(id__in=user.clinic_ids)
        self.fields["referring_pcp"] = staff_choices(user, Role.PCP)
        self.fields["care_manager"] = staff_choices(user, Role.CARE_MANAGER)
        self.fields["psychiatric_consultant"] = staff_choices(user, Role.PSYCHIATRIC_CONSULTANT)
        self.order_fields(
            [
                "clinic",
                "referred_on",
                "referring_pcp",
                "diagnoses",
                "care_manager",
                "psychiatric_consultant",
                "consent_on",
                "consent_method",
                "cost_sharing_explained",
                "psychiatric_consultation_explained",
                "consent_document",
                "initiating_visit_on",
                "billing_program",
            ]
        )

    @staticmethod
    def defaults(user: User) -> dict[str, object]:
        """Today, CoCM, and the user in the team roles they hold (their clinic if one)."""
        initial: dict[str, object] = {
            "referred_on": user.organization.today(),
            "billing_program": "cocm",
        }
        if user.has_role(Role.CARE_MANAGER):
            initial["care_manager"] = user.id
        if user.has_role(Role.PCP):
            initial["referring_pcp"] = user.id
        if len(user.clinic_ids) == 1:
            initial["clinic"] = next(iter(user.clinic_ids))
        return initial

    def clean_diagnoses(self) -> list[str]:
        return parse_codes(self.cleaned_data.get("diagnoses", ""))

    def episode_fields(self) -> dict[str, object]:
        """What `open_episode` takes besides the clinic, the team and the consent."""
        names = ("referred_on", "diagnoses", "initiating_visit_on", "billing_program")
        return {name: self.cleaned_data[name] for name in names}


class EnrollForm(ConsentFields):
    enrolled_on = forms.DateField(widget=DateInput, label="Enrollment date")
    diagnoses = forms.CharField(
        required=False,
        label="Add diagnoses (ICD-10-CM)",
        help_text="Separate codes with commas, e.g. F32.1, F41.1",
    )
    # The version of the episode the user saw: a newer one on save is a conflicting edit.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def __init__(self, *args: object, user: User, episode: Episode, **kwargs: object) -> None:
        today = user.organization.today()
        kwargs.setdefault(
            "initial",
            {
                "enrolled_on": today,
                "consent_on": episode.consent_on or today,
                "consent_method": episode.consent_method,
                "care_manager": episode.care_manager_id or user.id,
                "psychiatric_consultant": episode.psychiatric_consultant_id,
                "version": episode.version,
            },
        )
        kwargs["patient"] = episode.patient  # the consent's guardians are the episode's patient's
        super().__init__(*args, **kwargs)
        here = [episode.clinic_id]
        self.fields["care_manager"] = staff_choices(user, Role.CARE_MANAGER, here)
        self.fields["psychiatric_consultant"] = staff_choices(
            user, Role.PSYCHIATRIC_CONSULTANT, here
        )
        self.fields["consent_on"].required = True
        self.fields["consent_method"].required = True

    def clean_diagnoses(self) -> list[str]:
        return parse_codes(self.cleaned_data.get("diagnoses", ""))


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in EpisodeStatus if s is not EpisodeStatus.REFERRED]
    )
    on = forms.DateField(widget=DateInput, label="Date")
    reason = forms.ChoiceField(
        choices=[("", "—"), *[(r.value, r.label) for r in DischargeReason]],
        required=False,
        label="Discharge reason",
    )
    # The episode version the user saw; a newer one on save is a conflicting edit.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def transition(self) -> dict[str, object]:
        """The status change as `change_status` takes it."""
        data = self.cleaned_data
        return {
            "to": EpisodeStatus(data["status"]),
            "on": data["on"],
            "reason": DischargeReason(data["reason"]) if data["reason"] else None,
            "version": data["version"],
        }


class DiagnosisForm(forms.Form):
    code = forms.CharField(max_length=10, label="ICD-10-CM code")
    onset_on = forms.DateField(required=False, widget=DateInput, label="Onset")

    def clean_code(self) -> str:
        codes = parse_codes(self.cleaned_data["code"])
        if len(codes) != 1:
            raise forms.ValidationError("Give one ICD-10-CM code.")
        return codes[0]


class PatientSearchForm(forms.Form):
    query = forms.CharField(
        max_length=100,
        label="Name, MRN or birth date",
        help_text='e.g. "Wright, Rosa", "Rosa Wright", an MRN, or 1980-05-17',
    )


class RevocationForm(forms.Form):
    on = forms.DateField(widget=DateInput, label="Consent withdrawn on")
    reason = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 3}), label="Reason"
    )
    # The episode version the user saw: a newer one on save is a conflicting edit.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)


class RenewalForm(ConsentFields):
    # The episode version the user saw: a newer one on save is a conflicting edit.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent_on"].required = True
        self.fields["consent_method"].required = True


class GuardianForm(forms.ModelForm):
    # The service checks the address (the API's refusal, word for word).
    email = forms.CharField(max_length=254, required=False, label="Email")
    # The version of the guardian the user saw (an edit): a newer one on save conflicts.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    class Meta:
        model = Guardian
        fields = [
            "name",
            "relationship",
            "phone",
            "email",
            "legal_authority",
            "may_receive_links",
            "may_see_results",
            "access_renewed_until",
        ]
        widgets = {"access_renewed_until": DateInput}
        labels = {"access_renewed_until": "Access renewed until (past the 18th birthday)"}

    def _post_clean(self) -> None:
        # The service checks a guardian (a contact, the renewal date) and names the field;
        # the model's own constraint check would only say "constraint violated".
        pass

    def guardian(self) -> GuardianData:
        return GuardianData(**{name: self.cleaned_data[name] for name in self.Meta.fields})


class PediatricSettingsForm(forms.Form):
    assent_from_age = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=17,
        label="Require the patient's assent from age",
        help_text="Leave empty if assent is not required.",
    )
