from django import forms
from django.forms import inlineformset_factory

from pedsdesk.codes import COMMON_DIAGNOSES
from pedsdesk.people.models import Diagnosis, Guardian, GuardianOf, Patient, PlanOfCare, PlanOfCareService
from pedsdesk.practices.forms import PracticeModelForm
from pedsdesk.practices.models import Role


class PatientForm(PracticeModelForm):
    class Meta:
        model = Patient
        fields = ["first_name", "last_name", "preferred_name", "date_of_birth", "school", "grade", "is_active"]


class DiagnosisForm(PracticeModelForm):
    class Meta:
        model = Diagnosis
        fields = ["code", "description", "is_primary"]

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.patient = patient
        self.fields["code"].help_text = "e.g. " + ", ".join(list(COMMON_DIAGNOSES)[:5])


class GuardianForm(PracticeModelForm):
    sms_consent = forms.BooleanField(
        required=False, label="Agrees to text messages", help_text="Texts are only sent with this consent."
    )

    class Meta:
        model = Guardian
        fields = ["first_name", "last_name", "phone", "email", "language", "preferred_channel"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sms_consent"].initial = bool(self.instance.sms_consent_at)

    def save(self, commit=True):
        from django.utils import timezone

        consent = self.cleaned_data.get("sms_consent")
        if consent and not self.instance.sms_consent_at:
            self.instance.sms_consent_at = timezone.now()
        elif not consent:
            self.instance.sms_consent_at = None
        return super().save(commit)


class GuardianOfForm(PracticeModelForm):
    class Meta:
        model = GuardianOf
        fields = ["relationship", "legal_authority", "is_primary_contact"]


class PlanOfCareForm(PracticeModelForm):
    class Meta:
        model = PlanOfCare
        fields = ["discipline", "therapist", "frequency_per_week", "minutes", "start_date", "end_date", "goals"]

    def __init__(self, *args, patient: Patient | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if patient is not None:
            self.instance.patient = patient
        self.fields["therapist"].queryset = self.fields["therapist"].queryset.filter(
            role=Role.THERAPIST, therapist_profile__isnull=False, is_active=True
        )
        self.fields["goals"].widget.attrs["rows"] = 4


PlanOfCareServiceFormSet = inlineformset_factory(
    PlanOfCare,
    PlanOfCareService,
    fields=["cpt_code", "modifier", "units"],
    extra=2,
    can_delete=True,
    min_num=1,
    validate_min=True,
)
