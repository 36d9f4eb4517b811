"""A photo of a child doing an activity belongs to that child's program (ProgramItem.photo),
never to the shared library: only that child's family sees it, on their page and printout."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import make_guardian, make_patient, signed_in
from pedsdesk.audit.models import AuditEvent
from pedsdesk.hep.actions import ItemInput, save_version, update_and_send
from pedsdesk.hep.models import HomeProgram, ProgramItem
from pedsdesk.hep.tests.conftest import starter
from pedsdesk.hep.tests.test_pictures import phone_photo
from pedsdesk.portal.models import FamilyLink
from pedsdesk.portal.tokens import make_token

pytestmark = pytest.mark.django_db

ACTIVITY = "ot-playdough-pinch"


@pytest.fixture
def two_children(therapist, patient, practice):
    """Ava and Ben, each with a program using the same library activity."""
    ben = make_patient(practice, first="Ben", last="Nguyen")
    make_guardian(ben, first="Lan")
    for child in (patient, ben):
        update_and_send(actor=therapist, patient=child, items=[ItemInput(starter(ACTIVITY).pk)], note="",
                        guardians=list(child.guardians.all()))
    return patient, ben


def item_of(child) -> ProgramItem:
    return ProgramItem.objects.get(version=HomeProgram.objects.get(patient=child).current_version)


def attach(client, child, content: bytes = b"", name: str = "photo.jpg"):
    item = item_of(child)
    return client.post(f"/patients/{child.pk}/home-program/items/{item.pk}/photo/upload/", {
        "photo_upload": SimpleUploadedFile(name, content or phone_photo(), content_type="image/jpeg")}, follow=True)


def family_page(child) -> str:
    link = FamilyLink.objects.get(patient=child)
    return Client().get(f"/f/{make_token(link)}/").content.decode()


def family_pdf(child) -> bytes:
    link = FamilyLink.objects.get(patient=child)
    response = Client().get(f"/f/{make_token(link)}/home-program.pdf")
    assert response.status_code == 200
    return response.content


def test_the_photo_shows_on_that_childs_family_link_and_printout_only(therapist, two_children):
    ava, ben = two_children
    response = attach(signed_in(therapist), ava)
    assert "Photo added to" in response.content.decode()
    ava_page = family_page(ava)
    srcs = re.findall(r'<img src="(/files/[^"]+)"[^>]*data-testid="hep-child-photo"', ava_page)
    assert len(srcs) == 1 and Client().get(srcs[0]).status_code == 200
    assert 'data-testid="hep-child-photo"' not in family_page(ben)
    assert b"/Subtype /Image" in family_pdf(ava)
    assert b"/Subtype /Image" not in family_pdf(ben)
    assert starter(ACTIVITY).picture is None  # the shared library is untouched
    staff_url = f"/patients/{ava.pk}/home-program/items/{item_of(ava).pk}/photo/"
    assert signed_in(therapist).get(staff_url).status_code == 200
    builder = signed_in(therapist).get(f"/patients/{ava.pk}/home-program/").content.decode()
    assert staff_url in builder and staff_url not in signed_in(therapist).get(
        f"/patients/{ben.pk}/home-program/").content.decode()


def test_staff_of_another_practice_get_404(therapist, outsider, two_children):
    ava, _ = two_children
    attach(signed_in(therapist), ava)
    item = item_of(ava)
    assert signed_in(outsider).get(f"/patients/{ava.pk}/home-program/items/{item.pk}/photo/").status_code == 404
    assert attach(signed_in(outsider), ava).status_code == 404
    item.refresh_from_db()
    assert item.photo.purpose == "program_item_photo"  # still the therapist's, not replaced


def test_a_photo_cannot_be_attached_to_another_childs_item_by_its_url(therapist, two_children):
    ava, ben = two_children
    url = f"/patients/{ben.pk}/home-program/items/{item_of(ava).pk}/photo/upload/"
    response = signed_in(therapist).post(url, {"photo_upload": SimpleUploadedFile("p.jpg", phone_photo())})
    assert response.status_code == 404 and item_of(ava).photo is None


def test_a_non_image_is_refused_with_a_clear_message_and_nothing_saved(therapist, two_children):
    ava, _ = two_children
    response = attach(signed_in(therapist), ava, b"just some text", "notes.txt")
    page = response.content.decode()
    assert "not added" in page and "not a JPEG" in page
    assert item_of(ava).photo is None
    assert not AuditEvent.objects.filter(action="hep_item_photo_attached").exists()


def test_the_next_version_keeps_the_photo(therapist, two_children):
    ava, _ = two_children
    attach(signed_in(therapist), ava)
    photo_id = item_of(ava).photo_id
    version = save_version(actor=therapist, patient=ava, items=[ItemInput(starter(ACTIVITY).pk),
                                                                 ItemInput(starter("ot-zipper-coat").pk)])
    kept = {item.activity.key: item.photo_id for item in version.items.select_related("activity")}
    assert version.number == 2 and kept == {ACTIVITY: photo_id, "ot-zipper-coat": None}
    assert 'data-testid="hep-child-photo"' in family_page(ava)


def test_the_upload_and_its_replacement_are_audited(therapist, two_children):
    ava, _ = two_children
    attach(signed_in(therapist), ava)
    first = item_of(ava).photo
    attach(signed_in(therapist), ava)
    events = AuditEvent.objects.filter(action="hep_item_photo_attached").order_by("pk")
    assert [e.detail["replaced"] for e in events] == [False, True]
    assert AuditEvent.objects.filter(action="create", object_type__endswith="storedfile").count() == 2
    first.refresh_from_db()
    assert first.discarded_at is not None and first.patient_id == ava.pk


def test_the_library_upload_says_every_family_sees_it_and_not_a_child(therapist):
    page = signed_in(therapist).get("/home-programs/library/new/").content.decode()
    assert "every family whose program uses this activity" in page and "never a photo of a child" in page
