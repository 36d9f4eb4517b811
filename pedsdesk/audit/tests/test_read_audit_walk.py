"""Every page that shows a child's data writes an audit event (issue 13, item 4): the walk
opens every staff URL, and the admin's lists and forms, as the owner and as the therapist, and
wherever the child's or guardian's name appears asserts an event that names the child."""

import datetime as dt
import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from conftest import signed_in
from pedsdesk.audit.models import AuditEvent
from pedsdesk.practices.tests.test_permissions import POST_ONLY, URL_ARGS, _url, records  # noqa: F401
from pedsdesk.scheduling.models import Appointment
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db

# The audit log names children only to label its own events: reading it is not reading a chart.
PAGES = sorted(name for name in URL_ARGS if name not in POST_ONLY and name != "audit_search")


def _events_naming(patient_id: int, after: int, guardian_id: int | None = None) -> list[AuditEvent]:
    """Events after ``after`` that name the child (or, for guardian pages, the guardian)."""
    return [e for e in AuditEvent.objects.filter(seq__gt=after)
            if e.patient_id == patient_id or patient_id in e.detail.get("patient_ids", [])
            or (guardian_id is not None and (guardian_id in e.detail.get("guardian_ids", [])
                                             or (e.object_type, e.object_id) == ("people.guardian", str(guardian_id))))]


def _last_seq() -> int:
    return max(AuditEvent.objects.values_list("seq", flat=True), default=0)


def _assert_audited(client, url: str, patient) -> bool:
    """Open ``url``; if it shows the child's or guardian's data, an event of this request names
    them (or, for a record that only mentions them, such as a task, names that record)."""
    guardian = patient.guardians.first()
    before = _last_seq()
    response = client.get(url)
    if response.streaming:  # a file or PDF: its own view audits the download
        return False
    body = response.content.decode(errors="replace")
    marks = [patient.last_name, guardian.phone_display, *patient.coverages.values_list("member_id", flat=True)]
    shows = response.status_code == 200 and (
        any(mark in body for mark in marks) or re.search(rf"\b{patient.first_name}\b", body) is not None)
    if shows:
        naming = _events_naming(patient.pk, before, guardian.pk)
        own = AuditEvent.objects.filter(seq__gt=before, actor_id=client.session["_auth_user_id"],
                                        action__in=["view", "list"])
        assert naming or own.exists(), f"{url} shows {patient}'s data but audits no read"
    return shows


def _visit_this_week(patient, therapist) -> None:
    """A visit in the week the grid opens on, so the grid has the child on it."""
    today = timezone.localdate(timezone=patient.practice.zone)
    start = local_to_utc(today, dt.time(12), patient.practice.zone)
    Appointment.objects.create(practice=patient.practice, patient=patient, therapist=therapist,
                               plan_of_care=patient.plans_of_care.first(), start_at=start,
                               end_at=start + dt.timedelta(minutes=45))


@pytest.mark.parametrize("role", ["owner", "therapist"])
def test_every_page_that_shows_a_child_audits_the_read(role, staff, records, patient):  # noqa: F811
    client = signed_in(staff[role])
    _visit_this_week(patient, staff["therapist"])
    shown = [name for name in PAGES if _assert_audited(client, _url(name, records), patient)]
    # The walk reaches the pages the outside test named.
    if role == "owner":
        assert {"patient_edit", "schedule_week", "coverage_edit", "patient_detail"} <= set(shown)


def test_every_admin_list_and_form_that_shows_a_child_audits_the_read(owner, records, patient):  # noqa: F811
    client = signed_in(owner)
    shown = []
    for model in admin.site._registry:
        meta = model._meta
        if not apps.is_installed(meta.app_config.name):
            continue
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        if _assert_audited(client, url, patient):
            shown.append(meta.label_lower)
        first = admin.site._registry[model].get_queryset(type("R", (), {"user": owner})()).first()
        if first is not None:
            _assert_audited(client, reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]),
                            patient)
    assert "people.patient" in shown


def test_a_page_that_audits_itself_is_not_recorded_twice(front_desk, patient):
    client = signed_in(front_desk)
    before = _last_seq()
    client.get(reverse("patient_detail", args=[patient.pk]))
    pages = [e for e in _events_naming(patient.pk, before) if e.object_type == "page"]
    assert pages == []  # the chart's own view event already names the child
