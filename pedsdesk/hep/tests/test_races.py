"""Races, on SQLite and PostgreSQL: the same answers sent twice at once save once; two
staff sending at once make two versions with distinct numbers."""

import threading

import pytest
from django.db import connection

from pedsdesk.hep.actions import ItemInput, save_version, submit_feedback
from pedsdesk.hep.models import Feedback, ProgramVersion
from pedsdesk.hep.tests.conftest import starter
from pedsdesk.portal.models import FamilyLink

pytestmark = pytest.mark.django_db(transaction=True)


def _together(count: int, work) -> list[Exception]:
    barrier, errors = threading.Barrier(count), []

    def run():
        try:
            barrier.wait(timeout=10)
            work()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_the_same_form_sent_twice_at_once_saves_once(send_program, patient, any_hour):
    version, _ = send_program()
    link = FamilyLink.objects.get(patient=patient)
    ratings = {item.pk: "easy" for item in version.items.all()}
    errors = _together(2, lambda: submit_feedback(link=link, version_number=version.number, form_id="same",
                                                  days_practised=1, ratings=ratings))
    assert not errors, errors
    assert Feedback.objects.filter(form_id="same").count() == 1


def test_two_versions_saved_at_once_get_distinct_numbers(therapist, patient):
    items = [ItemInput(activity_id=starter("pt-bridges").pk)]
    errors = _together(2, lambda: save_version(actor=therapist, patient=patient, items=items))
    assert not errors, errors
    assert sorted(ProgramVersion.objects.values_list("number", flat=True)) == [1, 2]


def test_the_family_page_opened_twice_at_once_opens_each_delivery_once(send_program, patient, any_hour):
    from pedsdesk.audit.models import AuditEvent
    from pedsdesk.hep.actions import mark_opened
    from pedsdesk.hep.models import Delivery

    send_program()
    link = FamilyLink.objects.get(patient=patient)
    errors = _together(3, lambda: mark_opened(link=link))
    assert not errors, errors
    delivery = Delivery.objects.get()
    assert delivery.state == "opened" and delivery.opened_at is not None
    assert AuditEvent.objects.filter(action="hep_delivery_opened").count() == 1
