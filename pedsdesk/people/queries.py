from django.db.models import Prefetch
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.authorizations.models import Coverage
from pedsdesk.people.models import GuardianOf, Patient
from pedsdesk.scheduling.queries import upcoming_for


def patient_chart(*, request: HttpRequest, pk: int) -> dict:
    """Everything the chart page shows, in a fixed number of queries; the read is audited."""
    patient = get_object_or_404(
        Patient.objects.select_related("school").prefetch_related(
            "diagnoses",
            Prefetch("guardian_links", queryset=GuardianOf.objects.select_related("guardian")),
            Prefetch(
                "coverages",
                queryset=Coverage.objects.select_related("payer").prefetch_related("benefit_buckets"),
            ),
            "plans_of_care__services",
            "plans_of_care__therapist__therapist_profile",
        ),
        pk=pk,
        practice=request.user.practice,
    )
    record_event(actor=request.user, action="view", obj=patient, request=request)
    family_links = patient.family_links.select_related("guardian").order_by("-created_at")[:10]
    return {"patient": patient, "title": str(patient), "family_links": family_links,
            "upcoming_visits": upcoming_for(patient, timezone.now())}
