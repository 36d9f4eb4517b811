import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from pedsdesk.practices.models import Practice


class School(models.Model):
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


class SchoolDay(models.Model):
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
