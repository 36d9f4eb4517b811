import datetime as dt

from django import forms

from pedsdesk.fields import DateFormField, LineFormField
from pedsdesk.people.models import Patient, PlanOfCare
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.scheduling.models import AppointmentKind, CancelledBy


class BookingForm(forms.Form):
    """Book one visit. Times are the practice's local wall-clock times."""

    therapist = forms.ModelChoiceField(queryset=StaffMember.objects.none())
    patient = forms.ModelChoiceField(queryset=Patient.objects.none(), required=False,
                                     help_text="Leave empty for a meeting block.")
    kind = forms.ChoiceField(choices=AppointmentKind.choices, initial=AppointmentKind.TREATMENT)
    date = DateFormField()
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    minutes = forms.IntegerField(min_value=5, max_value=480, initial=45)
    title = LineFormField(required=False, max_length=120, help_text="Meeting blocks only; no clinical detail.")
    override_reason = LineFormField(required=False, max_length=200, label="Reason to book anyway",
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
    date = DateFormField()
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    override_reason = LineFormField(required=False, max_length=200, label="Reason to move anyway")


class CancelForm(forms.Form):
    by = forms.ChoiceField(choices=CancelledBy.choices, label="Cancelled by", widget=forms.RadioSelect)
    reason = LineFormField(max_length=200)


class WindowsField(forms.CharField):
    """Weekly windows typed as text: “Mon 15:30-18:00; Wed 15:30-18:00”."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Weekdays and 24-hour times, e.g. “Mon 15:30-18:00; Sat 9:00-12:00”.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        from pedsdesk.scheduling.windows import format_windows

        return format_windows(value) if isinstance(value, list) else value

    def to_python(self, value):
        from pedsdesk.scheduling.windows import WindowError, parse_windows

        try:
            return parse_windows(super().to_python(value))
        except WindowError as exc:
            raise forms.ValidationError(str(exc)) from None


class WaitlistForm(forms.ModelForm):
    windows = WindowsField(required=False, label="Times the family can come")

    class Meta:
        from pedsdesk.scheduling.models import WaitlistEntry

        model = WaitlistEntry
        fields = ["patient", "discipline", "referral_date", "priority", "windows", "payer",
                  "evaluation_authorized", "preferred_therapist", "intake_complete"]
        widgets = {"referral_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, practice: Practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.practice = practice
        self.fields["patient"].queryset = Patient.objects.filter(practice=practice)
        self.fields["payer"].queryset = self.fields["payer"].queryset.filter(practice=practice)
        self.fields["preferred_therapist"].queryset = StaffMember.objects.filter(
            practice=practice, role=Role.THERAPIST, is_active=True)

    def clean_referral_date(self):
        value = self.cleaned_data["referral_date"]
        if value and value > self.instance.practice.local_now().date():
            raise forms.ValidationError("The referral date cannot be in the future.")
        return value

    def clean_priority(self):
        value = self.cleaned_data["priority"]
        if value not in (1, 2, 3):
            raise forms.ValidationError("Priority is 1 (urgent), 2 (normal) or 3 (low).")
        return value

    def clean(self):
        cleaned = super().clean()
        therapist, discipline = cleaned.get("preferred_therapist"), cleaned.get("discipline")
        profile = getattr(therapist, "therapist_profile", None) if therapist else None
        if profile and discipline and profile.discipline != discipline:
            self.add_error("preferred_therapist", f"{therapist} is {profile.discipline}, not {discipline}.")
        return cleaned


class GapListForm(forms.ModelForm):
    windows = WindowsField(required=False, label="Times that would work better")

    class Meta:
        from pedsdesk.scheduling.models import GapListEntry

        model = GapListEntry
        fields = ["plan_of_care", "reason", "windows", "active"]

    def __init__(self, *args, practice: Practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.practice = practice
        today = practice.local_now().date()
        self.fields["plan_of_care"].queryset = PlanOfCare.objects.filter(
            patient__practice=practice, end_date__gte=today).select_related("patient")
        self.fields["plan_of_care"].label_from_instance = lambda p: f"{p.patient} — {p}"

    def clean_windows(self):
        windows = self.cleaned_data["windows"]
        if not windows:
            raise forms.ValidationError("Give at least one time that would work better.")
        return windows

    def save(self, commit=True):
        self.instance.patient = self.instance.plan_of_care.patient
        return super().save(commit)
