import datetime as dt

from django import forms

from pedsdesk.people.models import Patient, PlanOfCare
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.scheduling.models import AppointmentKind, CancelledBy


class BookingForm(forms.Form):
    """Book one visit. Times are the practice's local wall-clock times."""

    therapist = forms.ModelChoiceField(queryset=StaffMember.objects.none())
    patient = forms.ModelChoiceField(queryset=Patient.objects.none(), required=False,
                                     help_text="Leave empty for a meeting block.")
    kind = forms.ChoiceField(choices=AppointmentKind.choices, initial=AppointmentKind.TREATMENT)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    minutes = forms.IntegerField(min_value=5, max_value=480, initial=45)
    title = forms.CharField(required=False, max_length=120, help_text="Meeting blocks only; no clinical detail.")
    override_reason = forms.CharField(required=False, max_length=200, label="Reason to book anyway",
                                      help_text="Needed when pedsdesk warns about this time.")

    def __init__(self, *args, practice: Practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.fields["therapist"].queryset = StaffMember.objects.filter(
            practice=practice, role=Role.THERAPIST, is_active=True).select_related("therapist_profile")
        self.fields["patient"].queryset = Patient.objects.filter(practice=practice, is_active=True)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") != AppointmentKind.MEETING and not cleaned.get("patient"):
            self.add_error("patient", "Choose the child (only meeting blocks have none).")
        return cleaned

    def plan_of_care(self) -> PlanOfCare | None:
        patient, therapist = self.cleaned_data.get("patient"), self.cleaned_data["therapist"]
        if patient is None:
            return None
        profile = getattr(therapist, "therapist_profile", None)
        return PlanOfCare.objects.filter(patient=patient, discipline=profile.discipline if profile else "",
                                         start_date__lte=self.cleaned_data["date"],
                                         end_date__gte=self.cleaned_data["date"]).first()

    def start_at(self) -> dt.datetime:
        from pedsdesk.scheduling.timeslots import local_to_utc

        return local_to_utc(self.cleaned_data["date"], self.cleaned_data["time"], self.practice.zone)


class MoveForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    override_reason = forms.CharField(required=False, max_length=200, label="Reason to move anyway")


class CancelForm(forms.Form):
    by = forms.ChoiceField(choices=CancelledBy.choices, label="Cancelled by", widget=forms.RadioSelect)
    reason = forms.CharField(max_length=200)
