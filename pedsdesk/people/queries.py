from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from pedsdesk.audit.actions import record_event
from pedsdesk.people.chart import CHART, ChartPage
from pedsdesk.people.models import GuardianOf, Patient
from pedsdesk.people.search import terms


def patient_chart(*, request: HttpRequest, pk: int) -> dict:
    """Everything the chart page shows, in a fixed number of queries; the read is audited.
    The schedule, authorizations and later workflows add their sections (people/chart.py)."""
    patient = get_object_or_404(
        Patient.objects.select_related("school", "practice").prefetch_related(
            "diagnoses",
            Prefetch("guardian_links", queryset=GuardianOf.objects.select_related("guardian")),
            "plans_of_care__services",
            "plans_of_care__therapist__therapist_profile",
        ),
        pk=pk,
        practice=request.user.practice,
    )
    record_event(actor=request.user, action="view", obj=patient, request=request)
    family_links = patient.family_links.select_related("guardian").order_by("-created_at")[:10]
    return {"patient": patient, "title": str(patient), "family_links": family_links,
            "sections": CHART.build(ChartPage(request=request, patient=patient))}


def matching_patients(queryset: QuerySet, query: str) -> QuerySet:
    """Children in ``queryset`` whose names, or whose guardians' names or phones, contain
    every term of ``query`` ("Perez" finds "Pérez"; "(737) 555-0158" finds the guardian's
    children). Raises SearchError with what to type instead."""
    for term in terms(query):
        queryset = queryset.filter(Q(search_text__contains=term) | Q(guardians__search_text__contains=term))
    return queryset.distinct()


def matching_guardians(queryset: QuerySet, query: str) -> QuerySet:
    """Guardians in ``queryset`` whose names, email or phone, or whose children's names,
    contain every term of ``query``."""
    for term in terms(query):
        queryset = queryset.filter(Q(search_text__contains=term) | Q(patients__search_text__contains=term))
    return queryset.distinct()
