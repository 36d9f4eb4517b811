"""Payers with their policy, coverages and benefit buckets.

Authorizations with their service lines, and the renewals that continue them.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from pedsdesk.codes import unit_label
from pedsdesk.fields import FieldRules
from pedsdesk.people.models import Patient
from pedsdesk.practices.models import Discipline, Practice, StaffMember


class PayerType(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    MEDICAID_FFS = "medicaid_ffs", "Medicaid fee-for-service"
    MEDICAID_MCO = "medicaid_mco", "Medicaid managed care"
    CHIP = "chip", "CHIP"
    SCHOOL = "school", "School-based (IDEA / district contract)"
    SELF_PAY = "self_pay", "Self-pay"


class UnitType(models.TextChoices):
    VISITS = "visits", "Visits"
    # Timed codes count 15-minute units, untimed ones (92507, evaluations) one unit a
    # session: a line names its own (ServiceLine.unit_label).
    UNITS = "units", "Units"


class RoundingRule(models.TextChoices):
    EIGHT_MINUTE = "cms_8_minute", "CMS 8-minute rule"
    PER_SESSION = "per_session", "One unit per session"


class BookingRule(models.TextChoices):
    BLOCK = "block", "Block booking outside an authorization"
    WARN = "warn", "Warn, allow with a reason"
    ALLOW = "allow", "Allow"


class RenewalDocument(models.TextChoices):
    PLAN_OF_CARE = "plan_of_care", "Updated plan of care"
    PROGRESS_REPORT = "progress_report", "Progress report"
    RE_EVALUATION = "re_evaluation", "Re-evaluation"
    PHYSICIAN_ORDER = "physician_order", "Physician order / prescription"


class Payer(FieldRules, models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="payers")
    name = models.CharField(max_length=200)
    payer_type = models.CharField(max_length=20, choices=PayerType.choices)
    payer_id = models.CharField("payer ID", max_length=20, blank=True, help_text="Electronic claims payer ID.")
    phone = models.CharField(max_length=32, blank=True)
    portal_url = models.URLField(blank=True)
    fax = models.CharField(max_length=32, blank=True)
    # Renewal policy
    renewal_earliest_days = models.PositiveSmallIntegerField(
        default=30, help_text="Renewals are accepted no earlier than this many days before expiry."
    )
    renewal_recommended_days = models.PositiveSmallIntegerField(
        default=21, help_text="Submit renewals this many days before expiry."
    )
    renewal_documents = models.JSONField(default=list, blank=True)
    decision_turnaround_days = models.PositiveSmallIntegerField(default=7)
    expedited_turnaround_hours = models.PositiveSmallIntegerField(default=72)
    evaluation_requires_authorization = models.BooleanField(default=False)
    unit_type = models.CharField(max_length=10, choices=UnitType.choices, default=UnitType.VISITS)
    rounding_rule = models.CharField(max_length=20, choices=RoundingRule.choices, default=RoundingRule.EIGHT_MINUTE)
    booking_rule = models.CharField(max_length=10, choices=BookingRule.choices, default=BookingRule.WARN)
    requires_authorization = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["practice", "name"], name="unique_payer_name_per_practice")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("payer_detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.renewal_recommended_days > self.renewal_earliest_days:
            errors["renewal_recommended_days"] = (
                "The recommended lead time cannot be longer than the earliest the payer accepts "
                f"({self.renewal_earliest_days} days)."
            )
        unknown = set(self.renewal_documents or []) - set(RenewalDocument.values)
        if unknown:
            errors["renewal_documents"] = f"Unknown documents: {', '.join(sorted(unknown))}."
        if errors:
            raise ValidationError(errors)


class Coverage(FieldRules, models.Model):
    class Priority(models.IntegerChoices):
        PRIMARY = 1, "Primary"
        SECONDARY = 2, "Secondary"
        TERTIARY = 3, "Tertiary"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.PRIMARY)
    member_id = models.CharField(max_length=40)
    group_number = models.CharField(max_length=40, blank=True)
    subscriber_name = models.CharField(max_length=200, blank=True)
    plan_year_start_month = models.PositiveSmallIntegerField(
        default=1, help_text="Month the plan year starts (1 = calendar year)."
    )
    plan_year_start_day = models.PositiveSmallIntegerField(default=1)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "start_date"]

    def __str__(self) -> str:
        return f"{self.payer} ({self.get_priority_display().lower()}) {self.member_id}"

    def get_absolute_url(self) -> str:
        return reverse("coverage_edit", args=[self.pk])

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id

    def clean(self) -> None:
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "Coverage cannot end before it starts."
        if not 1 <= (self.plan_year_start_month or 0) <= 12:
            errors["plan_year_start_month"] = "Month is 1 to 12."
        if not 1 <= (self.plan_year_start_day or 0) <= 28:
            errors["plan_year_start_day"] = "Day is 1 to 28 so every plan year has it."
        if self.payer_id and self.patient_id and self.payer.practice_id != self.patient.practice_id:
            errors["payer"] = "Choose one of this practice's payers."
        if errors:
            raise ValidationError(errors)


class BenefitBucket(FieldRules, models.Model):
    """A plan-year limit: e.g. 60 PT+OT visits combined, speech separate."""

    class Reset(models.TextChoices):
        CALENDAR_YEAR = "calendar_year", "Calendar year (January 1)"
        PLAN_YEAR = "plan_year", "Plan year (the coverage's start month and day)"

    coverage = models.ForeignKey(Coverage, on_delete=models.CASCADE, related_name="benefit_buckets")
    name = models.CharField(max_length=100, help_text="e.g. PT/OT combined")
    disciplines = models.JSONField(default=list)
    unit_type = models.CharField(max_length=10, choices=UnitType.choices, default=UnitType.VISITS)
    limit = models.PositiveIntegerField()
    reset = models.CharField(max_length=20, choices=Reset.choices, default=Reset.CALENDAR_YEAR)

    def __str__(self) -> str:
        return f"{self.name}: {self.limit} {self.get_unit_type_display().lower()}"

    @property
    def audit_patient_id(self) -> int:
        return self.coverage.patient_id

    def clean(self) -> None:
        errors = {}
        if not self.disciplines:
            errors["disciplines"] = "Choose at least one discipline this limit counts."
        elif set(self.disciplines) - set(Discipline.values):
            errors["disciplines"] = "Disciplines are OT, PT and SLP."
        if self.limit is not None and self.limit <= 0:
            errors["limit"] = "A benefit limit is at least 1."
        if errors:
            raise ValidationError(errors)


class AuthorizationStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    PARTIALLY_APPROVED = "partially_approved", "Partially approved"
    DENIED = "denied", "Denied"
    EXPIRED = "expired", "Expired"
    EXHAUSTED = "exhausted", "Exhausted"


# Authorizations whose units visits may use.
USABLE_STATUSES = (AuthorizationStatus.APPROVED, AuthorizationStatus.PARTIALLY_APPROVED,
                   AuthorizationStatus.EXHAUSTED, AuthorizationStatus.EXPIRED)


class Authorization(FieldRules, models.Model):
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="authorizations")
    discipline = models.CharField(max_length=3, choices=Discipline.choices)
    number = models.CharField("authorization number", max_length=40)
    start_date = models.DateField()
    end_date = models.DateField()
    status = models.CharField(max_length=20, choices=AuthorizationStatus.choices,
                              default=AuthorizationStatus.APPROVED)
    previous = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="next",
                                 help_text="The authorization this one continues.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["end_date"]
        indexes = [models.Index(fields=["coverage", "discipline", "end_date"])]

    def __str__(self) -> str:
        return f"#{self.number} {self.discipline} {self.start_date:%m/%d/%y}–{self.end_date:%m/%d/%y}"

    def get_absolute_url(self) -> str:
        return reverse("authorization_detail", args=[self.pk])

    @property
    def audit_patient_id(self) -> int:
        return self.coverage.patient_id

    def clean(self) -> None:
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "An authorization cannot end before it starts."
        if self.number and self.coverage_id and self.start_date and self.end_date:
            duplicate = Authorization.objects.filter(
                coverage__patient_id=self.coverage.patient_id, number=self.number.strip(),
                start_date__lte=self.end_date, end_date__gte=self.start_date,
            ).exclude(pk=self.pk).exclude(status=AuthorizationStatus.DENIED)
            if duplicate.exists():
                errors["number"] = (f"Authorization #{self.number} is already recorded for overlapping dates; "
                                    "edit that one instead of entering it twice.")
        if errors:
            raise ValidationError(errors)


class ServiceLine(FieldRules, models.Model):
    """Codes and the visits or units the payer authorized for them."""

    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE, related_name="lines")
    cpt_codes = models.JSONField(help_text="The CPT codes this line covers.")
    modifier = models.CharField(max_length=2, blank=True)
    unit_type = models.CharField(max_length=10, choices=UnitType.choices, default=UnitType.VISITS)
    quantity = models.PositiveIntegerField(
        help_text="Authorized visits or units (15-minute units for timed codes, one a session for untimed codes).")
    requested_quantity = models.PositiveIntegerField(null=True, blank=True,
                                                     help_text="What was asked for, when less was approved.")
    per_week_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    per_month_cap = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{', '.join(self.cpt_codes)}: {self.quantity} {self.unit_label}"

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit_type, self.cpt_codes or [])

    @property
    def audit_patient_id(self) -> int:
        return self.authorization.coverage.patient_id

    def clean(self) -> None:
        from pedsdesk.codes import CodeError, cpt_for_discipline

        errors = {}
        if not self.cpt_codes:
            errors["cpt_codes"] = "Name at least one CPT code this line covers."
        else:
            authorization = self._state.fields_cache.get("authorization")
            bad = []  # every bad code, not only the last one
            for code in self.cpt_codes:
                try:
                    if authorization is not None and authorization.discipline:
                        cpt_for_discipline(code, authorization.discipline)
                except CodeError as exc:
                    bad.append(str(exc))
            if bad:
                errors["cpt_codes"] = bad
        if self.quantity is not None and self.quantity <= 0:
            errors["quantity"] = "Authorized quantity must be at least 1."
        for cap in ("per_week_cap", "per_month_cap"):
            if getattr(self, cap) is not None and getattr(self, cap) <= 0:
                errors[cap] = "A cap must be at least 1 (leave it empty for no cap)."
        if errors:
            raise ValidationError(errors)


# Renewals

# Documents the therapist writes: each becomes a task in the plan's therapist's queue.
THERAPIST_DOCUMENTS = (RenewalDocument.PROGRESS_REPORT, RenewalDocument.PLAN_OF_CARE, RenewalDocument.RE_EVALUATION)


class RenewalState(models.TextChoices):
    TO_PREPARE = "to_prepare", "To prepare"
    WAITING_ON_THERAPIST = "waiting_on_therapist", "Waiting on therapist"
    READY = "ready", "Ready to submit"
    SUBMITTED = "submitted", "Submitted"
    PENDING = "pending", "Pending with the payer"
    APPROVED = "approved", "Approved"
    PARTIALLY_APPROVED = "partially_approved", "Partially approved"
    DENIED = "denied", "Denied"


# Not yet sent to the payer: the checklist decides which of these it is.
PREPARING_STATES = (RenewalState.TO_PREPARE, RenewalState.WAITING_ON_THERAPIST, RenewalState.READY)
AWAITING_DECISION_STATES = (RenewalState.SUBMITTED, RenewalState.PENDING)
DECIDED_STATES = (RenewalState.APPROVED, RenewalState.PARTIALLY_APPROVED, RenewalState.DENIED)


class SubmissionChannel(models.TextChoices):
    PORTAL = "portal", "Payer portal"
    FAX = "fax", "Fax"
    ELECTRONIC = "electronic", "Electronic (X12 278 / API)"


class Renewal(FieldRules, models.Model):
    """The request that continues an authorization, from checklist to the payer's decision."""

    authorization = models.OneToOneField(Authorization, on_delete=models.CASCADE, related_name="renewal")
    state = models.CharField(max_length=24, choices=RenewalState.choices, default=RenewalState.TO_PREPARE)
    due_date = models.DateField(help_text="Submit by this date.")
    window_opens = models.DateField(help_text="The first day the payer accepts the renewal.")
    due_basis = models.CharField(max_length=12, default="end",
                                 help_text="What the due date counts back from: end or exhaustion.")
    therapist = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                  help_text="Writes the progress report and the updated plan of care.")
    requested_start = models.DateField()
    requested_end = models.DateField()
    expedited = models.BooleanField(default=False, help_text="Ask for the payer's expedited decision.")
    submitted_on = models.DateField(null=True, blank=True)
    channel = models.CharField(max_length=12, choices=SubmissionChannel.choices, blank=True)
    payer_reference = models.CharField(max_length=60, blank=True, help_text="The payer's request or case number.")
    submitted_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decision_due = models.DateField(null=True, blank=True, help_text="Submission date plus the payer's turnaround.")
    decided_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decision_note = models.TextField(blank=True)
    denial_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["state", "due_date"]), models.Index(fields=["state", "decision_due"])]

    def __str__(self) -> str:
        return f"Renewal of authorization #{self.authorization.number}"

    def get_absolute_url(self) -> str:
        return reverse("renewal_detail", args=[self.pk])

    @property
    def audit_patient_id(self) -> int:
        return self.authorization.coverage.patient_id

    @property
    def is_preparing(self) -> bool:
        return self.state in PREPARING_STATES

    @property
    def awaits_decision(self) -> bool:
        return self.state in AWAITING_DECISION_STATES

    @property
    def is_decided(self) -> bool:
        return self.state in DECIDED_STATES

    def clean(self) -> None:
        if self.requested_start and self.requested_end and self.requested_end < self.requested_start:
            raise ValidationError({"requested_end": "The requested period cannot end before it starts."})


class RenewalItem(FieldRules, models.Model):
    """One document on a renewal's checklist."""

    renewal = models.ForeignKey(Renewal, on_delete=models.CASCADE, related_name="items")
    document = models.CharField(max_length=20, choices=RenewalDocument.choices)
    received_on = models.DateField(null=True, blank=True)
    received_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["renewal", "document"], name="one_checklist_item_per_document")]

    def __str__(self) -> str:
        return self.get_document_display()

    @property
    def audit_patient_id(self) -> int:
        return self.renewal.authorization.coverage.patient_id

    @property
    def therapist_writes(self) -> bool:
        return self.document in THERAPIST_DOCUMENTS

    @property
    def done(self) -> bool:
        return self.received_on is not None


class RenewalLine(FieldRules, models.Model):
    """What a renewal asks for on one line, and what the payer approved."""

    renewal = models.ForeignKey(Renewal, on_delete=models.CASCADE, related_name="lines")
    source = models.ForeignKey(ServiceLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                               help_text="The line of the current authorization this continues.")
    cpt_codes = models.JSONField()
    modifier = models.CharField(max_length=2, blank=True)
    unit_type = models.CharField(max_length=10, choices=UnitType.choices, default=UnitType.VISITS)
    requested_quantity = models.PositiveIntegerField()
    approved_quantity = models.PositiveIntegerField(null=True, blank=True)
    per_week_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    per_month_cap = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{', '.join(self.cpt_codes)}: {self.requested_quantity} {self.get_unit_type_display().lower()}"

    @property
    def audit_patient_id(self) -> int:
        return self.renewal.authorization.coverage.patient_id

    def clean(self) -> None:
        errors = {}
        if self.requested_quantity is not None and self.requested_quantity <= 0:
            errors["requested_quantity"] = "Ask for at least 1."
        if errors:
            raise ValidationError(errors)


class AuthorizationFigures(FieldRules, models.Model):
    """An authorization's projected figures, stored so the board can filter, sort and page
    in SQL (pedsdesk.authorizations.figures keeps them equal to a fresh projection).

    Figures that depend on the day (days left, units unused near the end) are worked out
    from these and the dates when the board is read, so they never go stale overnight.
    """

    authorization = models.OneToOneField(Authorization, on_delete=models.CASCADE, primary_key=True,
                                         related_name="figures")
    projected = models.BooleanField(default=False, help_text="Usable, so visits draw on it.")
    authorized = models.IntegerField(default=0)
    used = models.IntegerField(default=0)
    scheduled = models.IntegerField(default=0)
    remaining = models.IntegerField(default=0)
    exhausted_on = models.DateField(null=True, blank=True)
    runs_out = models.BooleanField(default=False)
    denials = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["remaining"])]

    def __str__(self) -> str:
        return f"figures of authorization {self.authorization_id}"
