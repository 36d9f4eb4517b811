import re

import pytest
from django.urls import resolve, reverse

from conftest import make_guardian, make_patient
from pedsdesk.audit.models import AuditEvent
from pedsdesk.portal.actions import create_family_link
from pedsdesk.portal.models import FamilyLink
from pedsdesk.portal.tests.helpers import path_of

pytestmark = pytest.mark.django_db


def create_url(patient) -> str:
    return reverse("family_link_create", args=[patient.pk])


def test_staff_views_name_the_permission():
    for url in ("/patients/1/family-links/new/", "/family-links/1/revoke/"):
        assert resolve(url).func.permission == "family_links.manage"


def test_therapist_creates_a_link_and_sees_it_once(client_for, therapist, patient, rosa):
    client = client_for(therapist)
    response = client.post(create_url(patient), {"guardian": rosa.pk}, follow=True)
    assert response.redirect_chain[-1][0] == patient.get_absolute_url()
    link = FamilyLink.objects.get()
    assert link.guardian == rosa and link.patient == patient and link.created_by == therapist
    body = response.content.decode()
    url = re.search(r"http://\S+/f/[A-Za-z0-9_:-]+/", body).group(0)
    assert "Family link for Rosa Lopez about Ava" in body and "shown only once" in body
    assert AuditEvent.objects.filter(action="family_link_created", actor_id=therapist.pk).exists()
    # The chart lists it; the address is not shown again.
    chart = client.get(patient.get_absolute_url()).content.decode()
    assert url not in chart and "/f/" not in chart
    assert "Rosa Lopez" in chart and "active" in chart and "never" in chart
    assert reverse("family_link_revoke", args=[link.pk]) in chart
    assert client_for(therapist).get(path_of(url)).status_code == 200


def test_billing_may_not_create_or_revoke(client_for, owner, billing, patient, rosa):
    client = client_for(billing)
    assert client.post(create_url(patient), {"guardian": rosa.pk}).status_code == 403
    link, _ = create_family_link(actor=owner, guardian=rosa, patient=patient)
    assert client.post(reverse("family_link_revoke", args=[link.pk])).status_code == 403
    link.refresh_from_db()
    assert link.revoked_at is None and FamilyLink.objects.count() == 1


def test_billing_chart_has_no_family_links_section(client_for, billing, patient):
    body = client_for(billing).get(patient.get_absolute_url()).content.decode()
    assert 'id="family-links"' not in body and "family-links/new" not in body


def test_outsider_gets_404(client_for, owner, outsider, patient, rosa):
    client = client_for(outsider)
    assert client.post(create_url(patient), {"guardian": rosa.pk}).status_code == 404
    link, _ = create_family_link(actor=owner, guardian=rosa, patient=patient)
    assert client.post(reverse("family_link_revoke", args=[link.pk])).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_another_practices_guardian_id_creates_nothing(client_for, owner, other_practice, patient):
    elsewhere = make_guardian(make_patient(other_practice, first="Zoe", last="Far"), first="Nina")
    response = client_for(owner).post(create_url(patient), {"guardian": elsewhere.pk}, follow=True)
    assert "Choose one of Ava’s guardians" in response.content.decode() and "Nina" not in response.content.decode()
    assert not FamilyLink.objects.exists()


@pytest.mark.parametrize("value", ["", "abc", "0", "9" * 40])
def test_a_missing_or_odd_guardian_id_is_explained(client_for, front_desk, patient, value):
    response = client_for(front_desk).post(create_url(patient), {"guardian": value}, follow=True)
    assert response.status_code == 200 and "Choose one of Ava’s guardians" in response.content.decode()
    assert not FamilyLink.objects.exists()


def test_guardian_of_another_child_is_refused_on_the_chart(client_for, front_desk, practice, patient):
    sam = make_guardian(make_patient(practice, first="Ben", last="Okafor"), first="Sam")
    response = client_for(front_desk).post(create_url(patient), {"guardian": sam.pk}, follow=True)
    assert "Sam Okafor is not recorded as a guardian of Ava" in response.content.decode()
    assert not FamilyLink.objects.exists()


def test_create_and_revoke_are_post_only(client_for, owner, patient, rosa):
    link, _ = create_family_link(actor=owner, guardian=rosa, patient=patient)
    client = client_for(owner)
    assert client.get(create_url(patient)).status_code == 405
    assert client.get(reverse("family_link_revoke", args=[link.pk])).status_code == 405


def test_front_desk_revokes_a_link(client_for, owner, front_desk, patient, rosa):
    link, url = create_family_link(actor=owner, guardian=rosa, patient=patient)
    client = client_for(front_desk)
    response = client.post(reverse("family_link_revoke", args=[link.pk]), follow=True)
    body = response.content.decode()
    assert "Revoked the family link for Rosa Lopez" in body and "revoked" in body
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert AuditEvent.objects.filter(action="family_link_revoked", actor_id=front_desk.pk).count() == 1
    again = client.post(reverse("family_link_revoke", args=[link.pk]), follow=True)
    assert "already revoked" in again.content.decode()
    assert client.get(path_of(url)).status_code == 410


def test_chart_offers_one_create_button_per_guardian(client_for, office_manager, patient):
    make_guardian(patient, first="Lucía", language="es")
    body = client_for(office_manager).get(patient.get_absolute_url()).content.decode()
    assert "New link for Rosa Lopez" in body and "New link for Lucía Lopez" in body
    assert body.count(f'action="{create_url(patient)}"') == 2


def test_anonymous_staff_requests_go_to_sign_in(client, patient, rosa):
    response = client.post(create_url(patient), {"guardian": rosa.pk})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
