from django.db import models
from django.utils import timezone

from pedsdesk.fields import FieldRules
from pedsdesk.people.models import Guardian, Patient
from pedsdesk.practices.models import Practice, StaffMember


class FamilyLink(FieldRules, models.Model):
    """A link for one guardian about one child. The URL carries only a signed id;
    expiry and revocation are checked against this row on every use."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="family_links")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="family_links")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="family_links")
    created_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True)
    purpose = models.CharField(max_length=40, default="portal")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"link #{self.pk} for {self.guardian} about {self.patient.first_name}"

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
