"""A real practice never becomes a demo one and never goes without the second factor, through
any form, the admin or a save (issue 13, item 1); admin Groups are not shared (item 5)."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, make_practice, signed_in
from pedsdesk.practices.models import Practice

pytestmark = pytest.mark.django_db


def _admin_form(practice: Practice, **overrides) -> dict:
    data = {"name": practice.name, "time_zone": practice.time_zone, "npi": practice.npi, "phone": practice.phone,
            "email": "", "street": "", "city": "", "state": "", "postal_code": "", "idle_minutes": "",
            "is_demo": "on"}
    return {**data, **overrides}


def _password_only(username: str) -> Client:
    client = Client()
    client.post(reverse("login"), {"username": username, "password": PASSWORD})
    return client


def test_the_admin_cannot_make_a_real_practice_a_demo_one_nor_drop_the_second_factor(owner, front_desk, patient):
    client = signed_in(owner)
    url = reverse("admin:practices_practice_change", args=[owner.practice_id])
    page = client.get(url).content.decode()
    assert 'name="is_demo"' not in page and 'name="require_second_factor"' not in page
    # Tick "demo practice", then (as the next save) untick "require second factor".
    client.post(url, _admin_form(owner.practice))
    client.post(url, _admin_form(owner.practice, require_second_factor=""))
    practice = Practice.objects.get(pk=owner.practice_id)
    assert not practice.is_demo and practice.require_second_factor
    # Staff still need the second factor to reach a patient page.
    response = _password_only("fran").get(reverse("patient_detail", args=[patient.pk]))
    assert response.status_code == 302 and reverse("second_factor") in response["Location"]


def test_the_practice_settings_form_offers_no_way_to_drop_the_second_factor(owner):
    client = signed_in(owner)
    assert 'name="require_second_factor"' not in client.get(reverse("practice_edit")).content.decode()
    practice = owner.practice
    client.post(reverse("practice_edit"), {"name": practice.name, "time_zone": practice.time_zone,
                                           "npi": practice.npi, "phone": practice.phone, "is_demo": "on"})
    practice.refresh_from_db()
    assert not practice.is_demo and practice.require_second_factor


def test_no_save_turns_a_real_practice_into_a_demo_one(practice):
    practice.is_demo = True
    with pytest.raises(ValidationError, match="only `pedsdesk demo` creates demo practices"):
        practice.save()
    practice.is_demo, practice.require_second_factor = False, False
    with pytest.raises(ValidationError, match="Only the demo practice"):
        practice.save()
    practice.refresh_from_db()
    assert not practice.is_demo and practice.require_second_factor


def test_a_real_practice_needs_the_second_factor_whatever_its_row_says(front_desk, patient):
    Practice.objects.filter(pk=front_desk.practice_id).update(require_second_factor=False)
    response = _password_only("fran").get(reverse("patient_detail", args=[patient.pk]))
    assert response.status_code == 302 and reverse("second_factor") in response["Location"]


def test_a_demo_practice_stays_demo_and_may_go_without_the_second_factor(db):
    demo = make_practice("Demo Kids Therapy", is_demo=True, require_second_factor=False)
    demo.is_demo = False
    with pytest.raises(ValidationError):
        demo.save()


def test_admin_groups_are_not_offered_to_any_practice(owner, outsider):
    Group.objects.create(name="Made by another practice's owner")
    for user in (owner, outsider):
        client = signed_in(user)
        assert client.get("/admin/auth/group/").status_code == 404
        assert "Made by another" not in client.get("/admin/").content.decode()
        assert "/admin/auth/group/" not in client.get("/admin/").content.decode()
