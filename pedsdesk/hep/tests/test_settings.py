"""The practice's home-program thresholds: the owner and office manager set them, bad
values are refused with what to fix and nothing saved, each change is audited, and the
other roles (and other practices) cannot change them."""

from decimal import Decimal

import pytest

from pedsdesk.audit.models import AuditEvent
from pedsdesk.hep.models import HepPolicy, hep_policies

pytestmark = pytest.mark.django_db

GOOD = {"open_within_hours": "24", "feedback_days_before": "3", "nudge_days": "5", "low_adherence": "0.40"}


@pytest.mark.parametrize("role", ["owner", "office_manager"])
def test_the_owner_and_office_manager_change_the_thresholds_and_it_is_audited(staff, practice, client_for, role):
    client = client_for(staff[role])
    page = client.get("/home-programs/settings/")
    assert page.status_code == 200 and 'value="48"' in page.content.decode()
    response = client.post("/home-programs/settings/", GOOD)
    assert response.status_code == 302
    policy = HepPolicy.objects.get(practice=practice)
    assert (policy.open_within_hours, policy.feedback_days_before, policy.nudge_days, policy.low_adherence) == (
        24, 3, 5, Decimal("0.40"))
    event = AuditEvent.objects.get(action="hep_policy_changed")
    assert event.actor_id == staff[role].pk
    assert event.detail["changed"]["open_within_hours"] == {"from": "48", "to": "24"}
    assert event.detail["changed"]["low_adherence"] == {"from": "0.50", "to": "0.40"}
    # Saving the same values again changes nothing and writes no second event.
    client.post("/home-programs/settings/", GOOD)
    assert AuditEvent.objects.filter(action="hep_policy_changed").count() == 1


@pytest.mark.parametrize(("field", "value", "words"), [
    ("low_adherence", "1.5", "Use a number from 0.05 to 1.00; 1.5 is outside that range."),
    ("low_adherence", "0", "Use a number from 0.05 to 1.00; 0 is outside that range."),
    ("open_within_hours", "0", "Use a number from 1 to 336; 0 is outside that range."),
    ("feedback_days_before", "40", "Use a number from 1 to 14; 40 is outside that range."),
    ("nudge_days", "soon", "Enter a whole number."),
])
def test_a_bad_value_is_refused_with_what_to_fix_and_nothing_is_saved(owner, practice, client_for, field, value,
                                                                       words):
    response = client_for(owner).post("/home-programs/settings/", {**GOOD, field: value})
    assert response.status_code == 400
    assert words in response.content.decode()
    policy = HepPolicy.for_practice(practice)
    assert (policy.open_within_hours, policy.nudge_days, policy.low_adherence) == (48, 4, Decimal("0.50"))
    assert not AuditEvent.objects.filter(action="hep_policy_changed").exists()


@pytest.mark.parametrize("role", ["therapist", "front_desk", "billing"])
def test_other_roles_cannot_change_them(staff, practice, client_for, role):
    client = client_for(staff[role])
    assert client.get("/home-programs/settings/").status_code == 403
    assert client.post("/home-programs/settings/", GOOD).status_code == 403
    assert HepPolicy.for_practice(practice).open_within_hours == 48


def test_an_outsider_changes_only_their_own_practice(outsider, practice, client_for):
    assert client_for(outsider).post("/home-programs/settings/", GOOD).status_code == 302
    assert HepPolicy.for_practice(practice).open_within_hours == 48
    assert HepPolicy.objects.get(practice=outsider.practice).open_within_hours == 24


def test_the_practice_settings_page_links_it_and_the_caseload_uses_the_threshold(owner, office_manager,
                                                                                client_for):
    assert 'href="/home-programs/settings/"' in client_for(owner).get("/practice/").content.decode()
    assert 'href="/home-programs/settings/"' in client_for(office_manager).get("/home-programs/").content.decode()


def test_the_low_practice_rule_follows_the_practices_threshold(send_program, practice, patient, any_hour):
    from pedsdesk.hep.models import Feedback
    from pedsdesk.hep.rules import low_adherence

    version, (delivery,) = send_program()
    Feedback.objects.create(practice=practice, version=version, guardian=delivery.guardian, patient=patient,
                            form_id="f", days_practised=2, days_prescribed=5, window_start=version.created_at)
    assert len(list(low_adherence(practice, None))) == 1  # 40 % is below the default 50 %
    HepPolicy.objects.filter(practice=practice).update(low_adherence=Decimal("0.30"))
    hep_policies.forget(practice.pk)  # another process saved it: this one reads it within the minute
    assert list(low_adherence(practice, None)) == []
