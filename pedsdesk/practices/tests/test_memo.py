"""A practice's zone and messaging policy are read once, not once a row."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from conftest import make_plan_of_care
from pedsdesk.messaging.models import MessagingPolicy
from pedsdesk.messaging.rules import policy_for
from pedsdesk.practices.models import zones
from pedsdesk.scheduling.models import Appointment


def test_visits_loaded_without_their_practice_show_local_times_with_one_query(
        practice, patient, therapist, django_assert_num_queries):
    plan = make_plan_of_care(patient, therapist)
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    Appointment.objects.bulk_create([
        Appointment(practice=practice, patient=patient, therapist=therapist, plan_of_care=plan,
                    start_at=start + dt.timedelta(hours=i), end_at=start + dt.timedelta(hours=i, minutes=45))
        for i in range(20)])
    visits = list(Appointment.objects.filter(patient=patient))
    with django_assert_num_queries(1):
        shown = [visit.local_start for visit in visits]
    assert all(when.tzinfo == ZoneInfo("America/Chicago") for when in shown)
    # A practice that moves to another zone shows it at once in this process.
    practice.time_zone = "America/Denver"
    practice.save()
    assert Appointment.objects.filter(patient=patient).first().local_start.tzinfo == ZoneInfo("America/Denver")


def test_the_messaging_policy_is_read_once_and_a_saved_change_is_seen(practice, django_assert_num_queries):
    policy_for(practice)
    with django_assert_num_queries(0):
        for _ in range(10):
            assert policy_for(practice).sms_per_day == 1
    policy = MessagingPolicy.objects.get(practice=practice)
    policy.sms_per_day = 2
    policy.save()
    assert policy_for(practice).sms_per_day == 2
    assert zones.get(practice.pk) == ZoneInfo("America/Chicago")
