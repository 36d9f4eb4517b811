import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pedsdesk.fields import FieldRules
from pedsdesk.practices.models import Practice, StaffMember


class School(FieldRules, models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="schools")
    name = models.CharField(max_length=200)
    district = models.CharField(max_length=200, blank=True)
    is_preschool = models.BooleanField(default=False)
    start_time = models.TimeField(default=dt.time(8, 0))
    dismissal_time = models.TimeField(default=dt.time(15, 0))
    early_release_time = models.TimeField(null=True, blank=True, help_text="Dismissal on early-release days.")
    first_day = models.DateField(null=True, blank=True, help_text="First day of the current school year.")
    last_day = models.DateField(null=True, blank=True, help_text="Last day; after it, summer (no school).")
    phone = models.CharField(max_length=32, blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["practice", "name"], name="unique_school_name_per_practice")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("school_detail", args=[self.pk])

    def clean(self) -> None:
        if self.start_time and self.dismissal_time and self.dismissal_time <= self.start_time:
            raise ValidationError({"dismissal_time": "Dismissal must be after the school day starts."})
        if self.early_release_time and self.dismissal_time and self.early_release_time >= self.dismissal_time:
            raise ValidationError({"early_release_time": "Early release must be before the usual dismissal."})
        if self.first_day and self.last_day and self.last_day <= self.first_day:
            raise ValidationError({"last_day": "The school year must end after it starts."})


class SchoolDay(FieldRules, models.Model):
    """A day that differs from the usual bell schedule."""

    class Kind(models.TextChoices):
        NO_SCHOOL = "no_school", "No school"
        EARLY_RELEASE = "early_release", "Early release"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="calendar")
    date = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["school", "date"], name="one_calendar_entry_per_school_day")]

    def __str__(self) -> str:
        return f"{self.school}: {self.date} {self.get_kind_display()}"


# --- School team ---------------------------------------------------------------------

class ContactRole(models.TextChoices):
    CASE_MANAGER = "case_manager", "IEP case manager"
    SCHOOL_SLP = "school_slp", "School speech-language pathologist"
    SCHOOL_OT = "school_ot", "School occupational therapist"
    SCHOOL_PT = "school_pt", "School physical therapist"
    COORDINATOR_504 = "coordinator_504", "504 coordinator"
    TEACHER = "teacher", "Teacher"
    NURSE = "nurse", "School nurse"
    DISTRICT = "district", "District special-education office"


class SchoolContact(FieldRules, models.Model):
    """A person on a school's team, or (no school, a district) a district-level contact."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="school_contacts")
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts",
                               help_text="Leave empty for a district-level contact.")
    district = models.CharField(max_length=200, blank=True, help_text="For a district-level contact.")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=ContactRole.choices)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["practice", "email"], name="one_school_contact_per_email")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()}, {self.organization})"

    def get_absolute_url(self) -> str:
        return reverse("school_detail", args=[self.school_id]) if self.school_id else reverse("school_list")

    @property
    def organization(self) -> str:
        return self.school.name if self.school_id else (self.district or "district")

    @property
    def district_name(self) -> str:
        return self.school.district if self.school_id else self.district

    # What the outbox reads of a recipient.
    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name

    language = "en"

    def clean(self) -> None:
        if self.school_id and self.practice_id and self.school.practice_id != self.practice_id:
            raise ValidationError({"school": "Choose one of this practice's schools."})
        if not self.school_id and not self.district.strip():
            raise ValidationError({"district": "A contact without a school needs the district it works for."})
        if self.email:
            self.email = self.email.strip().lower()


class PlanType(models.TextChoices):
    NONE = "none", "No school plan"
    IEP = "iep", "IEP"
    PLAN_504 = "504", "504 plan"
    EVALUATING = "evaluating", "Being evaluated"


class StudentPlan(FieldRules, models.Model):
    """A child's IEP or 504 status at school, with the dates the school team works to."""

    patient = models.OneToOneField("people.Patient", on_delete=models.CASCADE, related_name="student_plan")
    plan_type = models.CharField(max_length=12, choices=PlanType.choices, default=PlanType.NONE)
    case_manager = models.ForeignKey(SchoolContact, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="case_load")
    annual_review_on = models.DateField(null=True, blank=True, help_text="Next IEP annual review.")
    reevaluation_on = models.DateField(null=True, blank=True, help_text="Next re-evaluation (every 3 years).")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.get_plan_type_display()} of patient #{self.patient_id}"

    def get_absolute_url(self) -> str:
        return reverse("patient_detail", args=[self.patient_id])

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id

    def clean(self) -> None:
        if self.case_manager_id and self.patient_id and self.case_manager.practice_id != self.patient.practice_id:
            raise ValidationError({"case_manager": "Choose a contact of this practice's schools."})
        if self.plan_type == PlanType.NONE and (self.annual_review_on or self.reevaluation_on):
            raise ValidationError({"plan_type": "Review dates need an IEP or 504 plan; choose its kind."})


# --- Consents ------------------------------------------------------------------------

class InfoCategory(models.TextChoices):
    """Kinds of records a family may authorize the practice to disclose."""

    EVALUATIONS = "evaluations", gettext_lazy("Evaluations")
    PROGRESS_SUMMARIES = "progress_summaries", gettext_lazy("Progress summaries")
    PLAN_OF_CARE = "plan_of_care", gettext_lazy("Plan of care")
    ATTENDANCE = "attendance", gettext_lazy("Attendance")
    HOME_PROGRAM = "home_program", gettext_lazy("Home-program reports")
    MEETINGS = "meetings", gettext_lazy("Meeting scheduling (IEP/504)")


class Delivery(models.TextChoices):
    LINK = "link", gettext_lazy("A secure link by email")
    ATTACHMENT = "attachment", gettext_lazy("A secure link, or the document attached to the email")


class ConsentState(models.TextChoices):
    DRAFT = "draft", "Waiting for signature"
    SIGNED = "signed", "Signed"
    REVOKED = "revoked", "Revoked"


class SignedVia(models.TextChoices):
    FAMILY_LINK = "family_link", gettext_lazy("Signed on the family link")
    PAPER = "paper", gettext_lazy("Paper form, scan uploaded")


class ConsentBase(FieldRules, models.Model):
    """What a signed permission from a family carries, whichever law it answers to."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=ConsentState.choices, default=ConsentState.DRAFT)
    signer = models.ForeignKey("people.Guardian", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    signer_name = models.CharField(max_length=200, blank=True, help_text="The name typed (or printed) by the signer.")
    signer_authority = models.CharField(max_length=100, blank=True, help_text="e.g. Mother, Legal guardian.")
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_via = models.CharField(max_length=12, choices=SignedVia.choices, blank=True)
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    signed_user_agent = models.CharField(max_length=400, blank=True)
    signed_language = models.CharField(max_length=2, blank=True)
    # The signed form as a PDF, or the uploaded scan (pedsdesk.files: served only after a permission check).
    document = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=200, blank=True)
    revoke_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id


class AuthorizationTemplate(models.TextChoices):
    GENERAL = "general_us", "General (United States)"
    NEW_YORK = "new_york", "New York (modelled on OCA Form 960)"


class DisclosureAuthorization(ConsentBase):
    """A family's permission under 45 CFR 164.508 for the practice to disclose records to
    a school, a district or named school contacts."""

    template = models.CharField(max_length=12, choices=AuthorizationTemplate.choices,
                                default=AuthorizationTemplate.GENERAL)
    categories = models.JSONField(default=list, help_text="InfoCategory values.")
    records_from = models.DateField(null=True, blank=True)
    records_to = models.DateField(null=True, blank=True)
    recipient_school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recipient_district = models.CharField(max_length=200, blank=True)
    recipient_contacts = models.ManyToManyField(SchoolContact, blank=True, related_name="authorizations")
    # The addresses of the named contacts when it was signed: a changed address is not authorized.
    named_emails = models.JSONField(default=list, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(max_length=200, blank=True, help_text="e.g. 'End of the 2026-27 school year'.")
    expiry_event_at = models.DateTimeField(null=True, blank=True, help_text="When staff recorded the event.")
    expiry_event_on = models.DateField(null=True, blank=True, help_text="The day the event happened.")
    expiry_event_by = models.CharField(max_length=200, blank=True, help_text="Who recorded the event.")
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.LINK)
    # {category: initials}: the template's sensitive categories the family initialled.
    sensitive_initials = models.JSONField(default=dict, blank=True)
    # Stops an attempt to sign twice, or a renewal being made from a stale copy.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "state"])]

    def __str__(self) -> str:
        return f"Authorization to disclose #{self.pk} for patient #{self.patient_id}"

    def get_absolute_url(self) -> str:
        return reverse("school_authorization_detail", args=[self.pk])

    def clean(self) -> None:
        """The field rules forms and the API share; named contacts are checked by the action
        (they are a many-to-many, unknown until saved)."""
        errors: dict[str, str] = {}
        unknown = [c for c in self.categories or [] if c not in InfoCategory.values]
        if not self.categories:
            errors["categories"] = "Choose at least one kind of record the family allows to be disclosed."
        elif unknown:
            errors["categories"] = f"Unknown kind of record: {', '.join(map(str, unknown))}."
        if not (self.purpose or "").strip():
            errors["purpose"] = "Say why the records are disclosed (e.g. 'IEP planning at the family's request')."
        if not self.expires_on and not (self.expiry_event or "").strip():
            errors["expires_on"] = "Give an expiry date or an expiry event."
        if self.practice_id:
            signed_on = (self.signed_at.astimezone(self.practice.zone).date() if self.signed_at
                         else self.practice.local_now().date())
        else:
            signed_on = timezone.localdate()
        if self.expires_on and self.expires_on < signed_on:
            errors["expires_on"] = _("The end date %(end)s is before the signature date %(signed)s.") % {
                "end": self.expires_on, "signed": signed_on}
        if self.records_from and self.records_to and self.records_to < self.records_from:
            errors["records_to"] = "The date range of records must end after it starts."
        if self.recipient_school_id and self.practice_id and self.recipient_school.practice_id != self.practice_id:
            errors["recipient_school"] = "Choose one of this practice's schools."
        if self.template not in AuthorizationTemplate.values:
            errors["template"] = f"Choose one of: {', '.join(AuthorizationTemplate.values)}."
        if errors:
            raise ValidationError(errors)

    @property
    def recipient_label(self) -> str:
        names = [c.name for c in self.recipient_contacts.all()]
        if self.recipient_school_id:
            names.insert(0, self.recipient_school.name)
        if self.recipient_district:
            names.insert(0, self.recipient_district)
        return ", ".join(names) or "—"


class FerpaConsent(ConsentBase):
    """The family's written consent (34 CFR 99.30) for a school to send its records to the practice."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    records = models.JSONField(default=list, help_text="FerpaRecord values.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"FERPA consent #{self.pk} for patient #{self.patient_id}"

    def get_absolute_url(self) -> str:
        return reverse("school_ferpa_detail", args=[self.pk])

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.records:
            errors["records"] = "Choose the school records the family allows the school to send."
        elif set(self.records) - set(FerpaRecord.values):
            errors["records"] = f"Records are some of: {', '.join(FerpaRecord.values)}."
        if not (self.purpose or "").strip():
            errors["purpose"] = "Say why the practice needs the school's records."
        if self.school_id and self.practice_id and self.school.practice_id != self.practice_id:
            errors["school"] = "Choose one of this practice's schools."
        if errors:
            raise ValidationError(errors)


class FerpaRecord(models.TextChoices):
    IEP = "iep", gettext_lazy("Individualized Education Program (IEP)")
    PLAN_504 = "504", gettext_lazy("504 plan")
    EVALUATIONS = "evaluations", gettext_lazy("School evaluations and eligibility reports")
    PROGRESS = "progress", gettext_lazy("IEP progress reports")


# --- Documents and disclosures ---------------------------------------------------------

class RequestState(models.TextChoices):
    OPEN = "open", "Open"
    DRAFTED = "drafted", "Drafted"
    SIGNED = "signed", "Signed"
    SENT = "sent", "Sent"
    CLOSED = "closed", "Closed"


OUTSTANDING_REQUEST_STATES = (RequestState.OPEN, RequestState.DRAFTED, RequestState.SIGNED)


class Requester(models.TextChoices):
    SCHOOL = "school", "School"
    FAMILY = "family", "Family"
    PAYER = "payer", "Payer"


class RequestKind(models.TextChoices):
    PROGRESS_SUMMARY = "progress_summary", "Progress summary for the school team"
    EVALUATION_REPORT = "evaluation_report", "Evaluation report"
    PLAN_OF_CARE = "plan_of_care", "Plan of care"
    ATTENDANCE_LETTER = "attendance_letter", "Attendance letter"


#: What each kind of document is, in the authorization's categories.
REQUEST_CATEGORY = {
    RequestKind.PROGRESS_SUMMARY: InfoCategory.PROGRESS_SUMMARIES,
    RequestKind.EVALUATION_REPORT: InfoCategory.EVALUATIONS,
    RequestKind.PLAN_OF_CARE: InfoCategory.PLAN_OF_CARE,
    RequestKind.ATTENDANCE_LETTER: InfoCategory.ATTENDANCE,
}


class DocumentRequest(FieldRules, models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="document_requests")
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="document_requests")
    requester = models.CharField(max_length=8, choices=Requester.choices)
    requested_by = models.CharField(max_length=200, blank=True, help_text="Who asked, in their words.")
    contact = models.ForeignKey(SchoolContact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=20, choices=RequestKind.choices)
    due_on = models.DateField()
    assignee = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="document_requests")
    state = models.CharField(max_length=8, choices=RequestState.choices, default=RequestState.OPEN)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["practice", "state", "due_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for patient #{self.patient_id}, due {self.due_on}"

    def get_absolute_url(self) -> str:
        return reverse("school_request_detail", args=[self.pk])

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id


class SummaryState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class Summary(FieldRules, models.Model):
    """A clinical summary for the school team: pre-filled from the records, completed and
    signed by the therapist. The signed PDF is what is sent."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="school_summaries")
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="school_summaries")
    therapist = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="school_summaries")
    request = models.ForeignKey(DocumentRequest, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="summaries")
    meeting = models.ForeignKey("Meeting", on_delete=models.SET_NULL, null=True, blank=True, related_name="summaries")
    period_from = models.DateField()
    period_to = models.DateField()
    prefilled = models.JSONField(default=dict, help_text="Demographics, diagnoses, goals, attendance, adherence.")
    progress = models.TextField(blank=True, help_text="Progress toward each goal, in the therapist's words.")
    recommendations = models.TextField(blank=True, help_text="Recommendations for the school team.")
    state = models.CharField(max_length=8, choices=SummaryState.choices, default=SummaryState.DRAFT)
    signed_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    pdf = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                            editable=False, help_text="The signed PDF: what is sent.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "summaries"

    def __str__(self) -> str:
        return f"School summary #{self.pk} for patient #{self.patient_id}"

    def get_absolute_url(self) -> str:
        return reverse("school_summary_detail", args=[self.pk])

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id


class DisclosureState(models.TextChoices):
    QUEUED = "queued", "Queued"
    STOPPED = "stopped", "Stopped before sending"


class Disclosure(FieldRules, models.Model):
    """One document sent (or about to be sent) to a school contact under an authorization."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="disclosures")
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="disclosures")
    authorization = models.ForeignKey(DisclosureAuthorization, on_delete=models.PROTECT, related_name="disclosures")
    contact = models.ForeignKey(SchoolContact, on_delete=models.PROTECT, related_name="disclosures")
    to_address = models.EmailField()
    category = models.CharField(max_length=20, choices=InfoCategory.choices)
    description = models.CharField(max_length=300)
    purpose = models.CharField(max_length=300)
    summary = models.ForeignKey(Summary, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures")
    meeting = models.ForeignKey("Meeting", on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures")
    sent_by = models.CharField(max_length=200)
    state = models.CharField(max_length=8, choices=DisclosureState.choices, default=DisclosureState.QUEUED)
    stopped_reason = models.CharField(max_length=300, blank=True)
    # The email that carries it: its state says whether and when it went.
    message = models.ForeignKey("messaging.Message", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"Disclosure #{self.pk} to contact #{self.contact_id}"

    def get_absolute_url(self) -> str:
        return reverse("school_disclosures", args=[self.patient_id])

    def status_label(self, zone) -> str:
        """Queued, sent (when), opened (when, how often), stopped (why), or the email's failure."""
        if self.state == DisclosureState.STOPPED:
            return f"Stopped: {self.stopped_reason}"
        message = self.message
        if message is None or message.state in ("queued", "sending"):
            return "Queued"
        if message.state not in ("sent", "delivered"):
            return f"Not sent ({message.get_state_display().lower()})"
        text = f"Sent {message.sent_at.astimezone(zone):%m/%d/%Y %H:%M}" if message.sent_at else "Sent"
        if self.first_opened_at:
            text += f"; opened {self.first_opened_at.astimezone(zone):%m/%d/%Y %H:%M}"
            if self.open_count > 1:
                text += f" ({self.open_count} times)"
        elif self.summary_id:
            text += "; not opened yet"
        return text

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id


# --- Meetings --------------------------------------------------------------------------

class MeetingKind(models.TextChoices):
    IEP = "iep", "IEP meeting"
    PLAN_504 = "504", "504 meeting"


class MeetingState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class Meeting(FieldRules, models.Model):
    """An IEP or 504 meeting a therapist attends; its invitation keeps one UID for life."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="school_meetings")
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="school_meetings")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="meetings")
    therapist = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="school_meetings")
    kind = models.CharField(max_length=4, choices=MeetingKind.choices, default=MeetingKind.IEP)
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    video_link = models.URLField(blank=True)
    attendee_roles = models.CharField(max_length=300, blank=True,
                                      help_text="Who attends, by role (e.g. case manager, parent, school SLP).")
    invitees = models.ManyToManyField(SchoolContact, blank=True, related_name="meetings")
    block = models.ForeignKey("scheduling.Appointment", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    summary_due_days = models.PositiveSmallIntegerField(default=5, help_text="Days before the meeting.")
    state = models.CharField(max_length=10, choices=MeetingState.choices, default=MeetingState.SCHEDULED)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.start_at.astimezone(self.practice.zone):%b %-d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("school_meeting_detail", args=[self.pk])

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id
