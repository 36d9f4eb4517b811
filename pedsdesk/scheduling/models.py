"""Working hours, closures, what families can do, and the appointments themselves.

Rows exist only for busy time (appointments, time off, closures); free time is
computed from working hours minus those.
"""

import copy
import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from pedsdesk.fields import FieldRules
from pedsdesk.local_time import staff_clock, staff_when
from pedsdesk.people.models import Patient, PlanOfCare
from pedsdesk.practices.memo import PracticeMemo
from pedsdesk.practices.models import Discipline, Practice, StaffMember, zone_of


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(FieldRules, models.Model):
    therapist = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "working hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {staff_clock(self.start)}–{staff_clock(self.end)}"

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "Working hours must end after they start."})


class TimeOff(FieldRules, models.Model):
    therapist = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start_at"]

    def __str__(self) -> str:
        return f"{self.therapist} off {self.start_at:%Y-%m-%d}"

    def clean(self) -> None:
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValidationError({"end_at": "Time off must end after it starts."})


class Closure(FieldRules, models.Model):
    """A day the whole practice is closed (federal holidays are preloaded)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["practice", "date"], name="one_closure_per_day")]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class FamilyAvailability(FieldRules, models.Model):
    """What the family says: a window that works (widens) or never works (narrows)."""

    class Kind(models.TextChoices):
        AVAILABLE = "available", "Can come"
        UNAVAILABLE = "unavailable", "Never works"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="stated_availability")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    note = models.CharField(max_length=200, blank=True, help_text="e.g. grandma picks up on Tuesdays")

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "family availability"

    def __str__(self) -> str:
        hours = f"{staff_clock(self.start)}–{staff_clock(self.end)}"
        return f"{self.get_kind_display()}: {self.get_weekday_display()} {hours}"

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The window must end after it starts."})


class AppointmentKind(models.TextChoices):
    EVALUATION = "evaluation", "Evaluation"
    TREATMENT = "treatment", "Treatment"
    RE_EVALUATION = "re_evaluation", "Re-evaluation"
    MAKEUP = "makeup", "Makeup"
    MEETING = "meeting", "Meeting block"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    LATE_CANCEL = "late_cancel", "Late cancel"
    NO_SHOW = "no_show", "No-show"


# Statuses that hold the time: a therapist or child cannot be in two of these at once.
HOLDING_STATUSES = (
    AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN,
    AppointmentStatus.COMPLETED,
)
# Statuses still to come: they will use authorized units unless cancelled.
UPCOMING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)


class CancelledBy(models.TextChoices):
    FAMILY = "family", "Family"
    CLINIC = "clinic", "Clinic"


class Series(FieldRules, models.Model):
    """The weekly visits a plan of care generates: one row per weekday and time."""

    plan_of_care = models.ForeignKey(PlanOfCare, on_delete=models.CASCADE, related_name="series")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Local wall-clock time in the practice's zone.")
    minutes = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    generated_through = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["weekday", "start_time"]
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()}s at {staff_clock(self.start_time)}, {self.minutes} min"

    @property
    def audit_patient_id(self) -> int:
        return self.plan_of_care.patient_id


class Appointment(FieldRules, models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments", null=True,
                                blank=True, help_text="Empty for a meeting block.")
    therapist = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="appointments")
    plan_of_care = models.ForeignKey(PlanOfCare, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="appointments")
    series = models.ForeignKey(Series, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="appointments")
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices, default=AppointmentKind.TREATMENT)
    status = models.CharField(max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    makeup_for = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="makeups")
    title = models.CharField(max_length=120, blank=True, help_text="Meeting blocks only (no clinical detail).")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    notice_hours = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    override_reason = models.CharField(max_length=200, blank=True,
                                       help_text="Why a warning was overridden when booking.")
    booked_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE: bumped on every change.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_at"]
        indexes = [
            models.Index(fields=["therapist", "start_at"]),
            models.Index(fields=["patient", "start_at"]),
            models.Index(fields=["practice", "start_at"]),
            models.Index(fields=["plan_of_care", "start_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_at__gt=models.F("start_at")),
                                   name="appointment_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        who = self.patient.first_name if self.patient_id else (self.title or "Meeting")
        return f"{who} with {self.therapist}, {staff_when(self.start_at, self.practice.zone)}"

    def get_absolute_url(self) -> str:
        return reverse("appointment_detail", args=[self.pk])

    @property
    def audit_patient_id(self) -> int | None:
        return self.patient_id

    @property
    def minutes(self) -> int:
        return int((self.end_at - self.start_at).total_seconds() // 60)

    @property
    def local_start(self) -> dt.datetime:
        return self.start_at.astimezone(zone_of(self))

    @property
    def local_end(self) -> dt.datetime:
        return self.end_at.astimezone(zone_of(self))

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDING_STATUSES


class OfferPolicy(models.TextChoices):
    OPTIMIZED = "optimized", "Let pedsdesk choose whom to ask and how many at once"
    SEQUENTIAL = "sequential", "One family at a time, each with an expiry"
    BATCH = "batch", "Small batches, first to accept"
    BROADCAST = "broadcast", "Everyone who fits at once, first to accept"


class SchedulingPolicy(FieldRules, models.Model):
    """How this practice schedules; one row per practice, made with defaults on first use."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="scheduling_policy")
    school_travel_minutes = models.PositiveSmallIntegerField(
        default=20, help_text="Minutes from school dismissal to the clinic."
    )
    daytime_start = models.TimeField(default=dt.time(8, 0), help_text="Earliest visit for children not in school.")
    daytime_end = models.TimeField(default=dt.time(18, 0))
    evening_end = models.TimeField(default=dt.time(19, 0), help_text="Latest end of an after-school visit.")
    treatment_week_days = models.PositiveSmallIntegerField(
        default=6, help_text="Days from Monday a makeup may land in (6: Monday to Saturday)."
    )
    late_cancel_hours = models.PositiveSmallIntegerField(
        default=24, help_text="A family cancelling with less notice is a late cancel."
    )
    minimum_notice_hours = models.DecimalField(max_digits=4, decimal_places=1, default=2,
                                               help_text="No offer or booking closer to the visit than this.")
    series_weeks_ahead = models.PositiveSmallIntegerField(default=8)
    offer_makeups = models.BooleanField(
        default=True, help_text="After a cancellation, offer the family free time for a makeup in the same week.")
    offer_policy = models.CharField(max_length=10, choices=OfferPolicy.choices, default=OfferPolicy.OPTIMIZED)
    offer_batch_size = models.PositiveSmallIntegerField(default=3)
    offer_expiry_minutes = models.PositiveSmallIntegerField(default=30,
                                                            help_text="How long a family has to take an offer.")

    class Meta:
        verbose_name_plural = "scheduling policies"

    def __str__(self) -> str:
        return f"Scheduling policy of {self.practice}"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        scheduling_policies.forget(self.practice_id)

    def clean(self) -> None:
        if self.offer_expiry_minutes is not None and not 5 <= self.offer_expiry_minutes <= 1440:
            raise ValidationError({"offer_expiry_minutes": (
                "Give a family 5 to 1,440 minutes (a day) to take an offer; 0 would expire it as it is sent.")})

    @classmethod
    def for_practice(cls, practice: Practice) -> "SchedulingPolicy":
        """The practice's policy, read at most once a minute per process (a copy: a form
        that changes it without saving changes nobody else's)."""
        return copy.copy(scheduling_policies.get(practice.pk))


scheduling_policies: PracticeMemo[SchedulingPolicy] = PracticeMemo(
    lambda practice_id: SchedulingPolicy.objects.get_or_create(practice_id=practice_id)[0])


class SeriesSkip(FieldRules, models.Model):
    """An occurrence of a series that was not booked, and why (a closure, a denial to come …)."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="skips")
    date = models.DateField()
    code = models.CharField(max_length=40)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["series", "date"], name="one_skip_per_occurrence")]

    def __str__(self) -> str:
        return f"{self.date}: {self.message}"

    @property
    def audit_patient_id(self) -> int:
        return self.series.plan_of_care.patient_id


class Opening(FieldRules, models.Model):
    """Time worth filling: freed by a cancellation, or free near a child owed a makeup."""

    class Source(models.TextChoices):
        CANCELLATION = "cancellation", "Cancellation"
        MAKEUP_SEARCH = "makeup_search", "Free time found for a makeup"
        DISCHARGE = "discharge", "Freed recurring slot"
        MANUAL = "manual", "Added by staff"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        OFFERING = "offering", "Offers out"
        FILLED = "filled", "Filled"
        EXPIRED = "expired", "Passed unfilled"
        WITHDRAWN = "withdrawn", "Withdrawn"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="openings")
    therapist = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="openings")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.CANCELLATION)
    freed_by = models.ForeignKey(Appointment, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="openings_freed")
    recurring = models.BooleanField(default=False, help_text="A weekly slot (from a discharge), not one visit.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    filled_by = models.ForeignKey(Appointment, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="openings_filled")
    considered = models.JSONField(default=list, blank=True,
                                  help_text="Every candidate looked at, in rank order, with why any was skipped.")
    created_at = models.DateTimeField(default=timezone.now)
    filled_at = models.DateTimeField(null=True, blank=True)
    recheck_at = models.DateTimeField(null=True, blank=True,
                                      help_text="Nobody could be asked: look for families again from this time.")

    class Meta:
        ordering = ["start_at"]
        indexes = [models.Index(fields=["practice", "status", "start_at"])]

    def __str__(self) -> str:
        return f"Opening with {self.therapist}, {staff_when(self.start_at, self.practice.zone)}"

    @property
    def minutes(self) -> int:
        return int((self.end_at - self.start_at).total_seconds() // 60)

    @property
    def origin(self) -> str:
        """Where the time came from, in words: "Emilio's cancellation", "Free time found for
        Emilio's makeup" (``freed_by`` is the visit a makeup replaces)."""
        child = self.freed_by.patient.first_name if self.freed_by and self.freed_by.patient_id else ""
        if not child:
            return self.get_source_display()
        return {
            self.Source.CANCELLATION: f"{child}’s cancellation",
            self.Source.MAKEUP_SEARCH: f"Free time found for {child}’s makeup",
            self.Source.DISCHARGE: f"{child}’s weekly time, freed at discharge",
        }.get(self.source, self.get_source_display())


class CandidateKind(models.TextChoices):
    MAKEUP = "makeup", "Owed a makeup this week"
    BELOW_FREQUENCY = "below_frequency", "Below plan-of-care frequency this week"
    GAP_LIST = "gap_list", "Asked for an earlier or extra time"
    WAITLIST = "waitlist", "Waiting for an evaluation"


class Offer(FieldRules, models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Waiting its turn"
        SENT = "sent", "Sent"
        ACCEPTED = "accepted", "Accepted and booked"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        TAKEN = "taken", "Accepted after the time was taken"
        WITHDRAWN = "withdrawn", "Withdrawn (filled by another)"

    opening = models.ForeignKey(Opening, on_delete=models.CASCADE, related_name="offers")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="offers")
    guardian = models.ForeignKey("people.Guardian", on_delete=models.CASCADE, related_name="offers")
    candidate_kind = models.CharField(max_length=20, choices=CandidateKind.choices)
    plan_of_care = models.ForeignKey(PlanOfCare, on_delete=models.SET_NULL, null=True, blank=True)
    rank = models.PositiveSmallIntegerField()
    batch = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    booked = models.ForeignKey(Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["opening", "rank"]
        constraints = [models.UniqueConstraint(fields=["opening", "patient"], name="one_offer_per_child_per_opening")]

    def __str__(self) -> str:
        return f"Offer to {self.patient.first_name} ({self.get_status_display()})"

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id




class ListedChild(FieldRules, models.Model):
    """A child on one of the front desk's lists, with the weekly times the family gave."""

    windows = models.JSONField(default=list, blank=True,
                               help_text='[{"weekday": 1, "start": "15:30", "end": "18:00"}, …] (local time)')

    class Meta:
        abstract = True

    @property
    def windows_text(self) -> str:
        from pedsdesk.scheduling.windows import format_windows

        return format_windows(self.windows)

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id


class GapListEntry(ListedChild):
    """A family who asked for an earlier or an extra time."""

    class Reason(models.TextChoices):
        EARLIER = "earlier", "Wants an earlier time"
        EXTRA = "extra", "Wants an extra visit"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="gap_list")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="gap_list_entries")
    plan_of_care = models.ForeignKey(PlanOfCare, on_delete=models.CASCADE, related_name="gap_list_entries")
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.EARLIER)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "gap list entries"

    def __str__(self) -> str:
        return f"{self.patient} ({self.get_reason_display().lower()})"



class WaitlistEntry(ListedChild):
    """A referred child waiting for an evaluation and then a regular time."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        EVALUATION_BOOKED = "evaluation_booked", "Evaluation booked"
        SCHEDULED = "scheduled", "Regular time found"
        REMOVED = "removed", "Removed"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="waitlist")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    discipline = models.CharField(max_length=3, choices=Discipline.choices)
    referral_date = models.DateField()
    priority = models.PositiveSmallIntegerField(default=2, help_text="1 urgent, 2 normal, 3 low")
    payer = models.ForeignKey("authorizations.Payer", on_delete=models.SET_NULL, null=True, blank=True)
    evaluation_authorized = models.BooleanField(default=False,
                                                help_text="Authorization for the evaluation is in place.")
    preferred_therapist = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True,
                                            related_name="+")
    intake_complete = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    evaluation = models.ForeignKey(Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["priority", "referral_date"]
        verbose_name_plural = "waitlist entries"

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.discipline}"


    def clean(self) -> None:
        # A referral comes after the birth: a birth date of today (or later) is a typing mistake.
        patient = self._state.fields_cache.get("patient") or (
            Patient.objects.filter(pk=self.patient_id).first() if self.patient_id else None)
        if patient is not None and self.referral_date and patient.date_of_birth >= self.referral_date:
            raise ValidationError({"patient": (
                f"{patient} has a date of birth of {patient.date_of_birth:%Y-%m-%d}, not before the referral "
                f"date; correct the date of birth on the child's page first.")})

    def days_waiting(self, today: dt.date) -> int:
        return (today - self.referral_date).days


class ConfirmationPolicy(FieldRules, models.Model):
    """When families are reminded of visits and when silence becomes work (one row per practice)."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="confirmation_policy")
    reminder_hours = models.JSONField(
        default=list, blank=True,
        help_text="Hours before a visit to remind the family, e.g. [48, 2]. Whole days keep the local clock time.")
    unconfirmed_task_hours = models.PositiveSmallIntegerField(
        default=24, help_text="A visit still only booked this close to its start becomes a front-desk task.")
    misses_in_a_row = models.PositiveSmallIntegerField(
        default=3, help_text="Cancellations, late cancels or no-shows in a row that need the office manager.")
    attendance_floor_percent = models.PositiveSmallIntegerField(default=80)
    attendance_window_days = models.PositiveSmallIntegerField(default=60)
    attendance_minimum_visits = models.PositiveSmallIntegerField(
        default=5, help_text="Fewer visits than this in the window say nothing about attendance.")

    class Meta:
        verbose_name_plural = "confirmation policies"

    def __str__(self) -> str:
        return f"Confirmation policy of {self.practice}"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        confirmation_policies.forget(self.practice_id)

    @classmethod
    def for_practice(cls, practice: Practice) -> "ConfirmationPolicy":
        """Read at most once a minute per process, as the scheduling policy."""
        return copy.deepcopy(confirmation_policies.get(practice.pk))


confirmation_policies: PracticeMemo[ConfirmationPolicy] = PracticeMemo(
    lambda practice_id: ConfirmationPolicy.objects.get_or_create(practice_id=practice_id,
                                                                 defaults={"reminder_hours": [48, 2]})[0])


class CalendarFeed(FieldRules, models.Model):
    """A therapist's private iCalendar feed. Only a hash of its token is stored, so a
    database copy cannot read anyone's calendar; revoking it turns the URL off for good."""

    therapist = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["therapist"], condition=models.Q(revoked_at__isnull=True),
                                    name="one_live_calendar_feed_per_therapist"),
        ]

    def __str__(self) -> str:
        return f"calendar feed #{self.pk} of {self.therapist}"

    @property
    def practice_id(self) -> int:
        return self.therapist.practice_id
