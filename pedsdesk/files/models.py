"""Files people upload (HEP pictures, school scans) and documents pedsdesk keeps (signed
summaries). The bytes live in the private directory (``PEDSDESK_PRIVATE_DIR``), which no
URL serves; a row is the only way to reach them, through pedsdesk/files/responses.py."""

from django.db import models
from django.utils import timezone

from pedsdesk.fields import FieldRules
from pedsdesk.practices.models import Practice


class StoredFile(FieldRules, models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="stored_files")
    # What it is for, in the owning app's words ("activity_picture", "authorization_scan").
    purpose = models.CharField(max_length=40)
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # Random, so a name never says whose file it is or what it shows.
    storage_name = models.CharField(max_length=100, unique=True)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    download_name = models.CharField(max_length=120)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    discarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.purpose} #{self.pk} ({self.content_type})"

    @property
    def audit_patient_id(self) -> int | None:
        return self.patient_id

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
