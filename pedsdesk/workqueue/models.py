"""Tasks for people: created and closed by rules, worked from the queue."""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from pedsdesk.fields import FieldRules
from pedsdesk.practices.models import Practice, Role, StaffMember


class Priority(models.IntegerChoices):
    LOW = 1, "Low"
    NORMAL = 2, "Normal"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLAIMED = "claimed", "In progress"
    SNOOZED = "snoozed", "Snoozed"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Closed by rule"


OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.SNOOZED)


class Task(FieldRules, models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=60, db_index=True)
    title = models.CharField(max_length=200)
    reason = models.TextField(blank=True, help_text="Why this task exists, in words the assignee understands.")
    # What the task is about: a guardian, an authorization, an appointment …
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    assignee = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="tasks")
    role = models.CharField(max_length=20, choices=Role.choices, blank=True,
                            help_text="The role whose queue holds the task while nobody has claimed it.")
    due_at = models.DateTimeField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    business_status = models.CharField(max_length=100, blank=True, help_text="e.g. waiting on therapist")
    links = models.JSONField(default=list, blank=True)
    rule = models.CharField(max_length=60, blank=True, help_text="The rule that opened the task, if any.")
    dedupe_key = models.CharField(max_length=200, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # A row of a list task (a day's call list): worked in place from the list, not listed on its own.
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="items")

    class Meta:
        ordering = ["due_at", "-priority", "created_at"]
        constraints = [
            # A rule's condition has at most one open task at a time.
            models.UniqueConstraint(
                fields=["practice", "dedupe_key"],
                condition=Q(status__in=["open", "claimed", "snoozed"]) & ~Q(dedupe_key=""),
                name="one_open_task_per_dedupe_key",
            ),
        ]
        indexes = [models.Index(fields=["practice", "status", "role"]),
                   models.Index(fields=["practice", "status", "assignee"]),
                   # The escalation and wake-up sweeps look across practices by status and time.
                   models.Index(fields=["status", "due_at"], name="workqueue_task_status_due"),
                   models.Index(fields=["status", "snoozed_until"], name="workqueue_task_status_snooze")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("task_detail", args=[self.pk])

    @property
    def audit_patient_id(self) -> int | None:
        return self.patient_id

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now=None) -> bool:
        return bool(self.is_open and self.due_at and self.due_at < (now or timezone.now()))


LIST_KIND = "task_list"


class Digest(FieldRules, models.Model):
    """One staff member's daily digest for one local date: sent, or found empty.

    The unique row is what makes the hourly digest sweep idempotent, and its time is
    "the previous digest" that newly escalated tasks are counted from.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    staff_member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="digests")
    local_date = models.DateField(help_text="The morning it was for, in the practice's time zone.")
    created_at = models.DateTimeField(default=timezone.now)
    task_count = models.PositiveIntegerField(default=0)
    escalated_count = models.PositiveIntegerField(default=0)
    sent = models.BooleanField(default=False, help_text="False: the queue was empty, so nothing was sent.")

    class Meta:
        ordering = ["-local_date"]
        constraints = [
            models.UniqueConstraint(fields=["staff_member", "local_date"], name="one_digest_per_staff_member_per_day"),
        ]

    def __str__(self) -> str:
        return f"digest for {self.staff_member} on {self.local_date}"
