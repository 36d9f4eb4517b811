from django import forms
from django.core.exceptions import ValidationError

from pedsdesk.fields import DateFormField
from pedsdesk.files.actions import IMAGE, PDF, check_upload
from pedsdesk.practices.forms import PracticeModelForm
from pedsdesk.practices.models import Role, StaffMember
from pedsdesk.schools.models import (
    AuthorizationTemplate,
    Delivery,
    FerpaRecord,
    InfoCategory,
    MeetingKind,
    Requester,
    RequestKind,
    School,
    SchoolContact,
    SchoolDay,
    StudentPlan,
)


class SchoolForm(PracticeModelForm):
    class Meta:
        model = School
        fields = ["name", "district", "is_preschool", "start_time", "dismissal_time", "early_release_time",
                  "first_day", "last_day", "phone", "street", "city"]


class SchoolDayForm(PracticeModelForm):
    class Meta:
        model = SchoolDay
        fields = ["date", "kind", "note"]

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.school = school

    def validate_unique(self):
        # school is not a form field, so Django would skip the (school, date) check.
        date = self.cleaned_data.get("date")
        taken = SchoolDay.objects.filter(school=self.instance.school, date=date).exclude(pk=self.instance.pk)
        if date and taken.exists():
            self.add_error("date", ValidationError(f"{date} is already on this school's calendar."))


class SchoolContactForm(PracticeModelForm):
    class Meta:
        model = SchoolContact
        fields = ["school", "district", "name", "role", "email", "phone", "is_active"]

    def validate_unique(self):
        email = (self.cleaned_data.get("email") or "").lower()
        taken = SchoolContact.objects.filter(practice=self.practice, email__iexact=email).exclude(pk=self.instance.pk)
        if email and taken.exists():
            self.add_error("email", ValidationError(f"{email} is already a school contact of this practice."))


class StudentPlanForm(PracticeModelForm):
    class Meta:
        model = StudentPlan
        fields = ["plan_type", "case_manager", "annual_review_on", "reevaluation_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_manager"].queryset = SchoolContact.objects.filter(practice=self.practice, is_active=True)


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """An action's refusal, shown on the form's fields (or above it)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class _DateInput(forms.DateInput):
    input_type = "date"


class AuthorizationForm(forms.Form):
    """The fields of a draft authorization; the model's clean() holds the rules."""

    template = forms.ChoiceField(choices=AuthorizationTemplate.choices, initial=AuthorizationTemplate.GENERAL)
    categories = forms.MultipleChoiceField(choices=InfoCategory.choices, widget=forms.CheckboxSelectMultiple,
                                           required=False, label="What information")
    records_from = forms.DateField(required=False, widget=_DateInput, label="Records from")
    records_to = forms.DateField(required=False, widget=_DateInput, label="Records to")
    recipient_school = forms.ModelChoiceField(queryset=School.objects.none(), required=False, label="School")
    recipient_district = forms.CharField(max_length=200, required=False, label="District")
    recipient_contacts = forms.ModelMultipleChoiceField(queryset=SchoolContact.objects.none(), required=False,
                                                        widget=forms.CheckboxSelectMultiple,
                                                        label="Named contacts")
    purpose = forms.CharField(max_length=300, required=False)
    expires_on = forms.DateField(required=False, widget=_DateInput, label="Expires on")
    expiry_event = forms.CharField(max_length=200, required=False, label="…or expires with this event")
    delivery = forms.ChoiceField(choices=Delivery.choices, initial=Delivery.LINK)

    def __init__(self, *args, practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient_school"].queryset = School.objects.filter(practice=practice)
        self.fields["recipient_contacts"].queryset = (SchoolContact.objects.filter(practice=practice, is_active=True)
                                                      .select_related("school"))


class FerpaForm(forms.Form):
    school = forms.ModelChoiceField(queryset=School.objects.none())
    records = forms.MultipleChoiceField(choices=FerpaRecord.choices, widget=forms.CheckboxSelectMultiple,
                                        required=False)
    purpose = forms.CharField(max_length=300, required=False,
                              initial="To coordinate the child's therapy with the school's services")

    def __init__(self, *args, practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(practice=practice)


class ScanForm(forms.Form):
    guardian = forms.ModelChoiceField(queryset=None, label="Signed by")
    signed_on = forms.DateField(widget=_DateInput)
    scan = forms.FileField(help_text="A PDF or a picture of the signed form.")

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = patient.guardians.all()

    def clean_scan(self):
        return check_upload(self.cleaned_data["scan"], accept={IMAGE, PDF})


class ExpiryEventForm(forms.Form):
    """Staff record that the event an authorization ends with has happened."""

    happened_on = DateFormField(widget=_DateInput, label="The event happened on")


class RequestForm(forms.Form):
    requester = forms.ChoiceField(choices=Requester.choices)
    requested_by = forms.CharField(max_length=200, required=False, label="Who asked")
    kind = forms.ChoiceField(choices=RequestKind.choices)
    due_on = forms.DateField(widget=_DateInput)
    assignee = forms.ModelChoiceField(queryset=StaffMember.objects.none())
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = StaffMember.objects.filter(practice=practice, is_active=True)


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(choices=MeetingKind.choices)
    therapist = forms.ModelChoiceField(queryset=StaffMember.objects.none())
    date = forms.DateField(widget=_DateInput)
    start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    minutes = forms.IntegerField(min_value=15, max_value=240, initial=60)
    location = forms.CharField(max_length=200, required=False)
    video_link = forms.URLField(required=False, assume_scheme="https")
    attendee_roles = forms.CharField(max_length=300, required=False, label="Attendees (roles)",
                                     initial="Case manager, parent, general-education teacher, school SLP")
    invitees = forms.ModelMultipleChoiceField(queryset=SchoolContact.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple, label="Invite school contacts")
    summary_due_days = forms.IntegerField(min_value=0, max_value=60, initial=5, label="Summary due (days before)")

    def __init__(self, *args, practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = StaffMember.objects.filter(practice=practice, role=Role.THERAPIST,
                                                                       is_active=True)
        self.fields["invitees"].queryset = SchoolContact.objects.filter(practice=practice, is_active=True)
