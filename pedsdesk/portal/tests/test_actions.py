import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from conftest import make_guardian, make_patient, make_practice
from pedsdesk.audit.models import AuditEvent
from pedsdesk.portal.actions import create_family_link, revoke_family_link
from pedsdesk.portal.models import FamilyLink

pytestmark = pytest.mark.django_db


def test_create_uses_the_default_lifetime_and_audits(owner, patient, rosa):
    link, url = create_family_link(actor=owner, guardian=rosa, patient=patient)
    assert url.startswith(settings.PEDSDESK_BASE_URL.rstrip("/") + "/f/")
    assert link.practice_id == patient.practice_id and link.created_by == owner and link.purpose == "portal"
    lifetime = link.expires_at - link.created_at
    assert lifetime == dt.timedelta(days=settings.PEDSDESK_FAMILY_LINK_DAYS)
    event = AuditEvent.objects.get(action="family_link_created")
    assert event.patient_id == patient.pk and event.actor_id == owner.pk and event.object_id == str(link.pk)
    assert "/f/" not in str(event.detail)


def test_create_with_days_and_a_system_actor(patient, rosa):
    link, _ = create_family_link(actor="worker", guardian=rosa, patient=patient, purpose="home program", days=7)
    assert link.expires_at - link.created_at == dt.timedelta(days=7) and link.created_by is None
    assert AuditEvent.objects.get(action="family_link_created").actor_label == "worker"


@pytest.mark.parametrize("days", [0, -1, 366])
def test_create_refuses_a_silly_lifetime(owner, patient, rosa, days):
    with pytest.raises(ValueError, match="1 to 365 days"):
        create_family_link(actor=owner, guardian=rosa, patient=patient, days=days)


def test_guardian_of_another_child_is_refused_with_a_clear_message(owner, practice, patient):
    ben = make_patient(practice, first="Ben", last="Okafor")
    sam = make_guardian(ben, first="Sam")
    with pytest.raises(ValueError, match=r"Sam Okafor is not recorded as a guardian of Ava\. Add them"):
        create_family_link(actor=owner, guardian=sam, patient=patient)
    assert not FamilyLink.objects.exists()
    assert not AuditEvent.objects.filter(action="family_link_created").exists()


def test_guardian_of_another_practice_is_refused(owner, other_practice, patient):
    elsewhere = make_guardian(make_patient(other_practice, first="Zoe"), first="Nina")
    with pytest.raises(ValueError, match="belongs to another practice"):
        create_family_link(actor=owner, guardian=elsewhere, patient=patient)


def test_staff_of_another_practice_is_refused(outsider, patient, rosa):
    with pytest.raises(ValueError, match="your own practice"):
        create_family_link(actor=outsider, guardian=rosa, patient=patient)


def test_revoke_once_and_audit(owner, front_desk, patient, rosa):
    link, _ = create_family_link(actor=owner, guardian=rosa, patient=patient)
    assert revoke_family_link(actor=front_desk, link=link) is True
    assert link.revoked_at is not None and not link.is_active
    assert revoke_family_link(actor=front_desk, link=link) is False
    events = AuditEvent.objects.filter(action="family_link_revoked")
    assert events.count() == 1 and events.get().patient_id == patient.pk


def test_a_second_practice_has_its_own_links(owner, patient, rosa):
    other = make_practice("Third Practice", npi="1245319599")
    child = make_patient(other, first="Mia")
    create_family_link(actor="worker", guardian=make_guardian(child, first="Ana"), patient=child)
    create_family_link(actor=owner, guardian=rosa, patient=patient)
    assert set(FamilyLink.objects.values_list("practice_id", flat=True)) == {other.pk, patient.practice_id}
    assert all(link.expires_at > timezone.now() for link in FamilyLink.objects.all())
