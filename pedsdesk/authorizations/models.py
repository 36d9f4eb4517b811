"""Payers with their policy, coverages and benefit buckets.

Authorizations themselves, utilization and renewals build on these.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from pedsdesk.people.models import Patient
from pedsdesk.practices.models import Discipline, Practice


class PayerType(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    MEDICAID_FFS = "medicaid_ffs", "Medicaid fee-for-service"
    MEDICAID_MCO = "medicaid_mco", "Medicaid managed care"
    CHIP = "chip", "CHIP"
    SCHOOL = "school", "School-based (IDEA / district contract)"
    SELF_PAY = "self_pay", "Self-pay"


class UnitType(models.TextChoices):
    VISITS = "visits", "Visits"
    UNITS = "units", "15-minute units"


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


class Payer(models.Model):
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


class Coverage(models.Model):
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


class BenefitBucket(models.Model):
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


class Authorization(models.Model):
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


class ServiceLine(models.Model):
    """Codes and the visits or units the payer authorized for them."""

    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE, related_name="lines")
    cpt_codes = models.JSONField(help_text="The CPT codes this line covers.")
    modifier = models.CharField(max_length=2, blank=True)
    unit_type = models.CharField(max_length=10, choices=UnitType.choices, default=UnitType.VISITS)
    quantity = models.PositiveIntegerField(help_text="Authorized visits or 15-minute units.")
    requested_quantity = models.PositiveIntegerField(null=True, blank=True,
                                                     help_text="What was asked for, when less was approved.")
    per_week_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    per_month_cap = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{', '.join(self.cpt_codes)}: {self.quantity} {self.get_unit_type_display().lower()}"

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
            for code in self.cpt_codes:
                try:
                    if authorization is not None and authorization.discipline:
                        cpt_for_discipline(code, authorization.discipline)
                except CodeError as exc:
                    errors["cpt_codes"] = str(exc)
        if self.quantity is not None and self.quantity <= 0:
            errors["quantity"] = "Authorized quantity must be at least 1."
        for cap in ("per_week_cap", "per_month_cap"):
            if getattr(self, cap) is not None and getattr(self, cap) <= 0:
                errors[cap] = "A cap must be at least 1 (leave it empty for no cap)."
        if errors:
            raise ValidationError(errors)
