"""The library, building and versioning a program, and delivering it to guardians."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from conftest import make_guardian, without_links
from pedsdesk.hep.actions import ItemInput, resend_delivery, save_version, sweep_deliveries
from pedsdesk.hep.forms import ItemRowForm
from pedsdesk.hep.models import Activity, Delivery, DeliveryState, HomeProgram
from pedsdesk.hep.starter import STARTER
from pedsdesk.hep.tests.conftest import deliver_due, starter
from pedsdesk.hep.tests.test_api import api_as
from pedsdesk.messaging.models import Message, MessageState
from pedsdesk.portal.models import FamilyLink
from pedsdesk.workqueue.models import OPEN_STATUSES, Task

pytestmark = pytest.mark.django_db


def test_the_starter_library_has_sixty_activities_over_three_disciplines_in_both_languages():
    starter("pt-bridges")  # loaded again if a transactional test flushed it
    library = Activity.objects.filter(practice=None)
    assert library.count() == len(STARTER) >= 60
    for discipline in ("OT", "PT", "SLP"):
        assert library.filter(discipline=discipline).count() >= 15
    for activity in library:
        assert activity.title_es and activity.title_es != activity.title_en
        assert len(activity.steps_in("es")) == len(activity.steps_in("en")) >= 2


def test_a_new_version_keeps_the_old_one_readable_and_the_link_stays(send_program, patient, any_hour):
    first, _ = send_program("ot-playdough-pinch")
    link_ids = set(FamilyLink.objects.filter(patient=patient).values_list("pk", flat=True))
    second, _ = send_program("ot-playdough-pinch", "ot-bead-string")
    program = HomeProgram.objects.get(patient=patient)
    assert program.current_version == second and second.number == first.number + 1
    assert [i.activity.key for i in first.items.all()] == ["ot-playdough-pinch"]
    assert set(FamilyLink.objects.filter(patient=patient).values_list("pk", flat=True)) == link_ids


def test_a_program_with_no_activities_is_refused_and_nothing_is_saved(therapist, patient):
    with pytest.raises(ValidationError, match="at least one activity"):
        save_version(actor=therapist, patient=patient, items=[])
    assert not HomeProgram.objects.exists()


def test_a_dose_out_of_range_is_refused_with_the_same_words_by_builder_api_library_and_action(
        therapist, patient, client_for):
    """One rule (pedsdesk/fields.py) for the builder's form, the API, the library's model and the action."""
    words = "Use a number from 1 to 7; 9 is outside that range."
    bridges = starter("pt-bridges")
    with pytest.raises(ValidationError, match=rf"Days per week for “Bridges”: {re.escape(words)}"):
        save_version(actor=therapist, patient=patient, items=[ItemInput(activity_id=bridges.pk, days_per_week=9)])
    row = ItemRowForm({"item-0-activity": bridges.pk, "item-0-days_per_week": "9"}, prefix="item-0")
    assert row.errors["days_per_week"] == [words]
    mine = Activity(practice=patient.practice, discipline="OT", title_en="X", title_es="X", steps_en="a",
                    steps_es="a", days_per_week=9, repetitions=500)
    with pytest.raises(ValidationError) as refused:
        mine.full_clean()
    assert refused.value.message_dict["days_per_week"] == [words]
    assert refused.value.message_dict["repetitions"] == ["Use a number from 1 to 200; 500 is outside that range."]
    response = api_as(therapist).post(f"/api/v1/patients/{patient.pk}/home-program/versions",
                                      {"items": [{"activity_id": bridges.pk, "days_per_week": 9}]},
                                      content_type="application/json")
    assert response.status_code == 422 and words in str(response.json())
    spec = api_as(therapist).get("/api/v1/openapi.json").json()["components"]["schemas"]["ItemIn"]["properties"]
    assert (spec["days_per_week"]["minimum"], spec["days_per_week"]["maximum"]) == (1, 7)
    assert not HomeProgram.objects.exists()


def test_another_practices_activity_cannot_be_used(therapist, patient, other_practice):
    theirs = Activity.objects.create(practice=other_practice, discipline="OT", title_en="X", title_es="X",
                                     steps_en="a", steps_es="a")
    with pytest.raises(ValidationError, match="no longer in the library"):
        save_version(actor=therapist, patient=patient, items=[ItemInput(activity_id=theirs.pk)])


def test_delivery_goes_queued_sent_and_the_text_carries_only_the_link(send_program, patient, any_hour):
    _, (delivery,) = send_program()
    assert delivery.state == DeliveryState.QUEUED
    message = Message.objects.get(about_id=delivery.pk, kind="hep_program")
    assert "/f/" in message.body and "Ava" in message.body
    for word in ("Play dough", "zip", "OT", "Occupational", "Zips coat"):
        assert word not in without_links(message.body)
    deliver_due()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT and delivery.sent_at is not None
    assert delivery.next_follow_up_at is not None


def test_a_guardian_with_no_reachable_channel_gives_a_front_desk_task(send_program, patient, any_hour):
    dad = make_guardian(patient, first="Luis", phone="", email="")
    _, deliveries = send_program(guardians=[dad])
    delivery = deliveries[0]
    assert delivery.state == DeliveryState.FAILED and "no mobile number" in delivery.status_reason
    task = Task.objects.get(dedupe_key=f"hep-unreached:{delivery.pk}", status__in=OPEN_STATUSES)
    assert task.role == "front_desk" and "Luis" in task.title


def test_a_guardian_who_sent_stop_gets_email_instead(send_program, patient, any_hour):
    rosa = patient.guardians.get()
    rosa.sms_opted_out_at = timezone.now()
    rosa.save()
    _, (delivery,) = send_program()
    assert Message.objects.get(about_id=delivery.pk, kind="hep_program").channel == "email"


def test_unopened_program_gets_a_reminder_then_the_other_channel_then_a_task(send_program, patient, any_hour):
    _, (delivery,) = send_program()
    deliver_due()
    later = timezone.now()
    for step, expected in ((1, "hep_program_reminder"), (2, "hep_program")):
        later += dt.timedelta(hours=49)
        sweep_deliveries(now=later)
        delivery.refresh_from_db()
        assert delivery.follow_up_step == step
        newest = Message.objects.filter(about_id=delivery.pk).order_by("-created_at", "-pk").first()
        assert newest.kind == expected
    assert newest.channel == "email"  # the other channel
    sweep_deliveries(now=later + dt.timedelta(hours=49))
    assert Task.objects.filter(dedupe_key=f"hep-unreached:{delivery.pk}", status__in=OPEN_STATUSES).exists()


def test_staff_resend_queues_again_and_closes_the_task(send_program, patient, therapist, any_hour):
    dad = make_guardian(patient, first="Luis", phone="", email="")
    _, (delivery,) = send_program(guardians=[dad])
    dad.email = "luis@example.org"
    dad.preferred_channel = "email"
    dad.save()
    message = resend_delivery(actor=therapist, delivery=delivery)
    assert message is not None and message.channel == "email"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.QUEUED
    assert not Task.objects.filter(dedupe_key=f"hep-unreached:{delivery.pk}", status__in=OPEN_STATUSES).exists()


def test_a_failed_text_tries_the_other_channel_at_once(send_program, patient, any_hour):
    _, (delivery,) = send_program()
    Message.objects.filter(about_id=delivery.pk).update(state=MessageState.FAILED, status_reason="carrier refused")
    sweep_deliveries()
    delivery.refresh_from_db()
    assert Message.objects.filter(about_id=delivery.pk, channel="email", kind="hep_program").exists()
    assert delivery.state == DeliveryState.QUEUED and delivery.follow_up_step == 2
    assert Delivery.objects.count() == 1
