"""Home programs: the activity library, a child's program and its versions, each
sending to a guardian (delivery), the family's answers (feedback) and the figures a
remote-monitoring claim would need.

A program is one per child; editing it makes a new version (the old one stays
readable) and the family's link does not change.
"""

import copy
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from pedsdesk.fields import FieldRules
from pedsdesk.files.models import StoredFile
from pedsdesk.hep.skills import SKILLS
from pedsdesk.people.models import Guardian, Patient
from pedsdesk.practices.memo import PracticeMemo
from pedsdesk.practices.models import Discipline, Practice, StaffMember

#: A program fits on one printed page: the builder warns above this many activities.
ONE_PAGE_ACTIVITIES = 4


class Activity(FieldRules, models.Model):
    """A library item. ``practice`` empty: the starter library every practice sees."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="activities")
    key = models.SlugField(max_length=60, blank=True, help_text="Stable name of a starter activity.")
    discipline = models.CharField(max_length=3, choices=Discipline.choices)
    title_en = models.CharField("title (English)", max_length=120)
    title_es = models.CharField("title (Spanish)", max_length=120)
    steps_en = models.TextField("steps (English)", help_text="One step a line, in plain words.")
    steps_es = models.TextField("steps (Spanish)", help_text="Un paso por línea, en palabras sencillas.")
    watch_en = models.TextField("what to watch for (English)", blank=True)
    watch_es = models.TextField("what to watch for (Spanish)", blank=True)
    skills = models.JSONField(default=list, blank=True)
    repetitions = models.PositiveSmallIntegerField(null=True, blank=True)
    sets = models.PositiveSmallIntegerField(null=True, blank=True)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    days_per_week = models.PositiveSmallIntegerField(default=5)
    video_url = models.URLField(blank=True, help_text="A video link (https) the family can open.")
    # A checked, re-encoded picture (pedsdesk/files): served to staff by permission, to families by signed link.
    # Every family whose program uses the activity sees it: a drawing or stock image, never a child
    # (a photo of a child is ProgramItem.photo, on that child's program only).
    picture = models.ForeignKey(StoredFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                help_text="Shown to every family whose program uses this activity.")
    created_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["discipline", "title_en"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(practice__isnull=True) & ~Q(key=""),
                                    name="one_starter_activity_per_key"),
        ]

    def __str__(self) -> str:
        return self.title_en

    def get_absolute_url(self) -> str:
        return reverse("hep_activity_edit", args=[self.pk])

    @property
    def is_starter(self) -> bool:
        return self.practice_id is None

    def title_in(self, language: str) -> str:
        return self.title_es if language == "es" else self.title_en

    def steps_in(self, language: str) -> list[str]:
        text = self.steps_es if language == "es" else self.steps_en
        return [line.strip() for line in text.splitlines() if line.strip()]

    def watch_in(self, language: str) -> str:
        return self.watch_es if language == "es" else self.watch_en

    def clean(self) -> None:
        unknown = sorted(set(self.skills or []) - set(SKILLS))
        if unknown:
            raise ValidationError({"skills": f"Unknown skill tags: {', '.join(unknown)}."})
        if self.video_url and not self.video_url.startswith("https://"):
            raise ValidationError({"video_url": "Use an https:// video link."})


class HepPolicy(FieldRules, models.Model):
    """A practice's follow-up rules (one row per practice, created on demand)."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="hep_policy")
    open_within_hours = models.PositiveSmallIntegerField(
        default=48, help_text="Hours before an unopened program gets a reminder, then the other channel, "
                              "then a front-desk task.")
    feedback_days_before = models.PositiveSmallIntegerField(
        default=2, help_text="Days before the next visit the family is asked how practice went.")
    nudge_days = models.PositiveSmallIntegerField(
        default=4, help_text="Days after delivery with nothing reported before one nudge goes out.")
    low_adherence = models.DecimalField(
        max_digits=3, decimal_places=2, default=0.5,
        help_text="Below this share of prescribed days the treating therapist gets a task.")

    class Meta:
        verbose_name_plural = "home program policies"

    def __str__(self) -> str:
        return f"Home program policy of {self.practice}"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        hep_policies.forget(self.practice_id)

    @classmethod
    def for_practice(cls, practice: Practice) -> "HepPolicy":
        """The practice's policy, read at most once a minute per process (an hour's reminders
        ask it for every visit; a copy, so a form that changes it changes nobody else's)."""
        return copy.copy(hep_policies.get(practice.pk))


hep_policies: PracticeMemo[HepPolicy] = PracticeMemo(
    lambda practice_id: HepPolicy.objects.get_or_create(practice_id=practice_id)[0])


class HomeProgram(FieldRules, models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="home_programs")
    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="home_program")
    current_version = models.ForeignKey("ProgramVersion", on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"home program of {self.patient}"

    def get_absolute_url(self) -> str:
        return reverse("hep_program", args=[self.patient_id])

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id


class ProgramVersion(FieldRules, models.Model):
    program = models.ForeignKey(HomeProgram, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    note = models.TextField(blank=True, help_text="A note to the family.")
    created_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["program", "-number"]
        constraints = [models.UniqueConstraint(fields=["program", "number"], name="one_version_number")]

    def __str__(self) -> str:
        return f"version {self.number} of {self.program}"

    @property
    def practice_id(self) -> int:
        return self.program.practice_id

    @property
    def audit_patient_id(self) -> int:
        return self.program.patient_id

    @property
    def days_prescribed_per_week(self) -> int:
        return self.days_a_week(self.items.all())

    @staticmethod
    def days_a_week(items: Iterable["ProgramItem"]) -> int:
        """Practice days a week: the most any activity asks for (a day counts once)."""
        return max((item.days_per_week for item in items), default=0)


class DosedActivity(FieldRules, models.Model):
    """An activity with its dose, as a program or a template lists it."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    repetitions = models.PositiveSmallIntegerField(null=True, blank=True)
    sets = models.PositiveSmallIntegerField(null=True, blank=True)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    days_per_week = models.PositiveSmallIntegerField(default=5)

    class Meta:
        abstract = True


class ProgramItem(DosedActivity):
    version = models.ForeignKey(ProgramVersion, on_delete=models.CASCADE, related_name="items")
    # A photo of this child doing the activity (taken in the session): shown on this child's
    # family page and printout only, carried into the program's next versions.
    photo = models.ForeignKey(StoredFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              help_text="A photo of this child doing the activity; only this child's family sees it.")

    class Meta:
        ordering = ["version", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.activity} in {self.version}"


class ProgramTemplate(FieldRules, models.Model):
    """A practice's saved set of activities with their doses, to start a child's program
    from (no child in it: no note, no name of a family)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="hep_templates")
    name = models.CharField(max_length=80)
    created_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["practice", "name"], condition=Q(archived_at__isnull=True),
                                               name="one_live_template_per_name")]

    def __str__(self) -> str:
        return self.name


class TemplateItem(DosedActivity):
    template = models.ForeignKey(ProgramTemplate, on_delete=models.CASCADE, related_name="items")

    class Meta:
        ordering = ["template", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.activity} in {self.template}"


class DeliveryState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    FAILED = "failed", "Failed"


class Delivery(FieldRules, models.Model):
    """One sending of a program version to one guardian; its messages are about it."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="hep_deliveries")
    version = models.ForeignKey(ProgramVersion, on_delete=models.CASCADE, related_name="deliveries")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="hep_deliveries")
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.QUEUED)
    channel = models.CharField(max_length=5, blank=True)
    status_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    #: 0 first message, 1 reminder sent, 2 other channel tried, 3 front desk asked
    follow_up_step = models.PositiveSmallIntegerField(default=0)
    next_follow_up_at = models.DateTimeField(null=True, blank=True)
    resends = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["version", "guardian"], name="one_delivery_per_guardian")]
        indexes = [models.Index(fields=["state", "next_follow_up_at"])]

    def __str__(self) -> str:
        return f"delivery #{self.pk} of {self.version} to guardian #{self.guardian_id}"

    @property
    def audit_patient_id(self) -> int:
        return self.version.program.patient_id


class Rating(models.TextChoices):
    EASY = "easy", "Easy"
    OKAY = "okay", "Okay"
    HARD = "hard", "Hard"
    NOT_TRIED = "not_tried", "Did not try"


class QuestionKind(models.TextChoices):
    THERAPY = "therapy", "For the therapist"
    LOGISTICS = "logistics", "Scheduling or paperwork"


class Feedback(FieldRules, models.Model):
    """A family's answers about one program version."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="hep_feedback")
    version = models.ForeignKey(ProgramVersion, on_delete=models.CASCADE, related_name="feedback")
    guardian = models.ForeignKey(Guardian, on_delete=models.SET_NULL, null=True, related_name="hep_feedback")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="hep_feedback")
    #: the form's own id: the same form sent twice saves once
    form_id = models.CharField(max_length=40, unique=True)
    days_practised = models.PositiveSmallIntegerField()
    #: days the program asked for in the window this answer covers
    days_prescribed = models.PositiveSmallIntegerField()
    window_start = models.DateTimeField()
    question = models.TextField(blank=True)
    question_kind = models.CharField(max_length=10, choices=QuestionKind.choices, default=QuestionKind.THERAPY)
    submitted_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True, help_text="When staff closed the question.")

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name_plural = "feedback"
        indexes = [models.Index(fields=["patient", "submitted_at"])]

    def __str__(self) -> str:
        return f"feedback #{self.pk} on {self.version}"

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id

    @property
    def has_open_question(self) -> bool:
        return bool(self.question.strip()) and self.answered_at is None


class FeedbackItem(FieldRules, models.Model):
    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(ProgramItem, on_delete=models.CASCADE, related_name="+")
    rating = models.CharField(max_length=10, choices=Rating.choices)

    class Meta:
        ordering = ["feedback", "item__position"]
        constraints = [models.UniqueConstraint(fields=["feedback", "item"], name="one_rating_per_item")]

    def __str__(self) -> str:
        return f"{self.rating} for item #{self.item_id}"


class FeedbackRequest(FieldRules, models.Model):
    """The family was asked how practice went: before a visit (maybe inside that
    visit's reminder), or as the one nudge after delivery."""

    class Kind(models.TextChoices):
        BEFORE_VISIT = "before_visit", "Before the next visit"
        NUDGE = "nudge", "Nudge after delivery"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(ProgramVersion, on_delete=models.CASCADE, related_name="feedback_requests")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    #: the visit asked about (0 for the nudge): a plain id, so the schedule may change freely
    appointment_id = models.PositiveBigIntegerField(default=0)
    #: asked inside the visit reminder: one text, the cap spent once
    with_visit_reminder = models.BooleanField(default=False)
    asked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "guardian", "kind", "appointment_id"],
                                               name="one_request_per_visit")]

    def __str__(self) -> str:
        return f"{self.kind} request for {self.version}"


class FamilyPreference(FieldRules, models.Model):
    """A guardian's choice, from their page: when reminders come, or none at all."""

    guardian = models.OneToOneField(Guardian, on_delete=models.CASCADE, related_name="hep_preference")
    reminder_time = models.TimeField(null=True, blank=True, help_text="Local time of day for reminders.")
    reminders_off = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"reminder preference of guardian #{self.guardian_id}"


class ReviewTime(FieldRules, models.Model):
    """Staff minutes spent reviewing a family's reported data (remote-monitoring counts)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="hep_review_times")
    staff_member = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, related_name="+")
    minutes = models.PositiveSmallIntegerField()
    reviewed_at = models.DateTimeField(default=timezone.now)
    real_time_interaction = models.BooleanField(default=False, help_text="Spoke with the family live.")

    class Meta:
        ordering = ["-reviewed_at"]

    def __str__(self) -> str:
        return f"{self.minutes} min review of patient #{self.patient_id}"

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id
