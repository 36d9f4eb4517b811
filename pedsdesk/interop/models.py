"""What imports remember: the EMR's ids per source, the practice's own mappings, every run."""

from django.db import models
from django.utils import timezone

from pedsdesk.fields import FieldRules
from pedsdesk.practices.models import Practice, StaffMember


class ExternalId(FieldRules, models.Model):
    """One EMR id (or a therapist or payer name an EMR uses) and the pedsdesk record it is.

    Kept per source, so WebPT's patient 1042 and Therabill's client 1042 never meet.
    ``fingerprint`` is the hash of the row last imported, so an unchanged row is skipped.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=40)
    record_type = models.CharField(max_length=20)
    external_id = models.CharField(max_length=200)
    object_id = models.BigIntegerField()
    fingerprint = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "source", "record_type", "external_id"],
                                               name="one_record_per_external_id")]
        indexes = [models.Index(fields=["practice", "record_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.source} {self.record_type} {self.external_id} → {self.object_id}"


class SavedMapping(FieldRules, models.Model):
    """A practice's copy of a preset, adjusted on the Imports page."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    spec = models.JSONField()
    created_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["practice", "name"], name="one_mapping_name_per_practice")]

    def __str__(self) -> str:
        return self.name


class ImportRun(FieldRules, models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        CLEAN = "clean", "Dry run, nothing rejected"
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected, nothing changed"

    class Origin(models.TextChoices):
        COMMAND = "command", "Command line"
        PAGE = "page", "Imports page"
        FOLDER = "folder", "Import folder"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    started_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.COMMAND)
    mapping_name = models.CharField(max_length=120)
    mapping_key = models.CharField(max_length=120, blank=True, help_text="The preset's or saved mapping's name.")
    source = models.CharField(max_length=40)
    record_type = models.CharField(max_length=20)
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500, blank=True, help_text="The stored upload (never served).")
    resolutions = models.JSONField(default=dict, blank=True, help_text="Answers for unknown names.")
    file_sha256 = models.CharField(max_length=64)
    dry_run = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(default=dict, blank=True)
    rejections = models.JSONField(default=list, blank=True)
    unknown = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(default=list, blank=True)
    changes = models.JSONField(default=list, blank=True, help_text="Visits moved, cancelled or withdrawn.")
    rows_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("import_run", args=[self.pk])


class ImportFolder(FieldRules, models.Model):
    """A folder the daily sweep imports: where a practice drops the EMR's nightly export, or
    where an SFTP job lands the Standard Extract. Imported files move to done/, rejected
    ones to failed/ with their rejection report beside them."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=500, help_text="A folder on the server, e.g. /srv/sftp/webpt/appointments.")
    mapping_name = models.CharField(max_length=120, help_text="A preset or one of the practice's saved mappings.")
    active = models.BooleanField(default=True)
    last_swept_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "path"], name="one_import_folder_per_path")]

    def __str__(self) -> str:
        return f"{self.path} ({self.mapping_name})"
