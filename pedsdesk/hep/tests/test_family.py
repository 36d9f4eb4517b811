"""The family's side: the program on their page in their language, answers saved once,
refused for an old version or a dead link, script kept inert, a one-page printout; and
what the answers open in the work queue."""

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from conftest import make_patient, signed_in
from pedsdesk.audit.models import AuditEvent
from pedsdesk.hep.actions import ItemInput, answer_question, update_and_send
from pedsdesk.hep.models import Activity, Feedback, FeedbackItem
from pedsdesk.hep.tests.conftest import starter
from pedsdesk.people.models import GuardianOf
from pedsdesk.portal.actions import revoke_family_link
from pedsdesk.portal.models import FamilyLink
from pedsdesk.portal.tokens import make_token
from pedsdesk.workqueue.models import OPEN_STATUSES, Task
from pedsdesk.workqueue.rules import registered_rules, run_rule

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def family(patient, guardian=None) -> tuple[Client, str]:
    link = FamilyLink.objects.filter(patient=patient, **({"guardian": guardian} if guardian else {})).first()
    return Client(), f"/f/{make_token(link)}/"


def answer(client, url, version, **extra):
    data = {"form_id": extra.pop("form_id", "form-1"), "version": version.number, "days_practised": "1",
            **{f"rating-{item.pk}": "okay" for item in version.items.all()}, **extra}
    return client.post(url + "home-program/feedback/", data)


def rule(name):
    return next(r for r in registered_rules() if r.name == name)


def test_the_page_shows_the_program_in_spanish_and_the_form(send_program, patient, any_hour):
    patient.guardians.update(language="es")
    send_program("slp-bubble-blow", note="Cinco minutos antes de cenar.")
    client, url = family(patient)
    page = client.get(url).content.decode()
    assert "Práctica en casa" in page and "Soplar burbujas" in page and "Redondee los labios." in page
    assert "10 veces" in page and "5 días a la semana" in page and "Cinco minutos antes de cenar." in page
    assert "¿Cómo les fue con la práctica?" in page and 'name="days_practised"' in page


def test_answers_sent_twice_are_saved_once(send_program, patient, any_hour):
    version, _ = send_program()
    client, url = family(patient)
    first = answer(client, url, version)
    again = answer(client, url, version)
    assert first.status_code == again.status_code == 200
    assert "already have these answers" in again.content.decode()
    assert Feedback.objects.count() == 1 and FeedbackItem.objects.count() == 2


def test_an_answer_about_an_old_version_is_refused_and_nothing_saved(send_program, patient, any_hour):
    old, _ = send_program("pt-bridges")
    send_program("pt-bridges", "pt-superman")
    client, url = family(patient)
    response = answer(client, url, old)
    assert response.status_code == 400 and "The program changed" in response.content.decode()
    assert not Feedback.objects.exists()


def test_answers_in_spanish_get_their_error_in_spanish(send_program, patient, any_hour):
    patient.guardians.update(language="es")
    version, _ = send_program()
    client, url = family(patient)
    response = client.post(url + "home-program/feedback/", {"form_id": "f", "version": version.number,
                                                              "days_practised": "2"})
    assert response.status_code == 400
    assert "Elija cómo le fue con cada actividad" in response.content.decode()
    assert not Feedback.objects.exists()


def test_too_many_days_says_the_range(send_program, patient, any_hour):
    version, _ = send_program()
    client, url = family(patient)
    response = answer(client, url, version, days_practised="40")
    assert response.status_code == 400 and "from 0 to 1" in response.content.decode()


def test_a_revoked_or_expired_link_saves_nothing(send_program, patient, therapist, any_hour):
    version, _ = send_program()
    link = FamilyLink.objects.get(patient=patient)
    client, url = family(patient)
    revoke_family_link(actor=therapist, link=link)
    assert answer(client, url, version).status_code == 410
    FamilyLink.objects.filter(pk=link.pk).update(revoked_at=None, expires_at=timezone.now() - dt.timedelta(days=1))
    assert answer(client, url, version).status_code == 410
    assert not Feedback.objects.exists()


def test_script_in_notes_activity_text_and_answers_stays_inert(patient, therapist, any_hour):
    own = Activity.objects.create(practice=patient.practice, discipline="OT", title_en=SCRIPT, title_es=SCRIPT,
                                  steps_en=SCRIPT, steps_es=SCRIPT, watch_en=SCRIPT)
    version, _ = update_and_send(actor=therapist, patient=patient, items=[ItemInput(own.pk)], note=SCRIPT,
                                 guardians=list(patient.guardians.all()))
    client, url = family(patient)
    assert answer(client, url, version, question=SCRIPT).status_code == 200
    pages = [client.get(url).content.decode(),
             signed_in(therapist).get(f"/patients/{patient.pk}/").content.decode(),
             signed_in(therapist).get(f"/patients/{patient.pk}/home-program/").content.decode()]
    for page in pages:
        assert "<script>alert(1)" not in page and 'onerror="alert(2)"' not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_printout_is_one_page_in_the_familys_language(send_program, patient, any_hour):
    patient.guardians.update(language="es")
    send_program("ot-playdough-pinch", "ot-zipper-coat", "pt-bridges", "slp-bubble-blow")
    client, url = family(patient)
    response = client.get(url + "home-program.pdf")
    assert response["Content-Type"] == "application/pdf"
    # Served as every generated document is (pedsdesk/files document_response): private, audited.
    assert response["Content-Disposition"] == 'attachment; filename="home-practice.pdf"'
    assert response["Cache-Control"].startswith("private, no-store") and response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    export = AuditEvent.objects.get(action="export")
    assert export.patient_id == patient.pk and export.detail == {"document": "home program", "version": 1}
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Práctica en casa de Ava" in text and "Puentes" in text


def test_two_children_each_under_their_own_link(send_program, patient, therapist, any_hour):
    rosa = patient.guardians.get()
    brother = make_patient(patient.practice, first="Mateo")
    GuardianOf.objects.create(guardian=rosa, patient=brother, relationship="mother", is_primary_contact=True)
    send_program("pt-bridges")
    update_and_send(actor=therapist, patient=brother, items=[ItemInput(starter("slp-s-words").pk)], note="",
                    guardians=[rosa])
    ava_page = family(patient, rosa)[0].get(family(patient, rosa)[1]).content.decode()
    mateo_page = family(brother, rosa)[0].get(family(brother, rosa)[1]).content.decode()
    assert "Bridges" in ava_page and "Snake sound" not in ava_page
    assert "Snake sound" in mateo_page and "Bridges" not in mateo_page


def test_reminder_choice_is_saved_from_the_page(send_program, patient, any_hour):
    send_program()
    client, url = family(patient)
    assert client.post(url + "home-program/reminders/", {"reminders": "on", "reminder_time": "18:30"}).status_code \
        == 200
    rosa = patient.guardians.get()
    assert rosa.hep_preference.reminder_time == dt.time(18, 30) and not rosa.hep_preference.reminders_off
    bad = client.post(url + "home-program/reminders/", {"reminders": "on", "reminder_time": "late"})
    assert bad.status_code == 400 and "18:30" in bad.content.decode()
    client.post(url + "home-program/reminders/", {"reminders": "off"})
    rosa.hep_preference.refresh_from_db()
    assert rosa.hep_preference.reminders_off


def test_questions_go_to_the_therapist_and_logistics_to_the_front_desk(send_program, patient, therapist, practice,
                                                                       any_hour):
    version, _ = send_program()
    client, url = family(patient)
    answer(client, url, version, question="Is the zipper too hard?")
    answer(client, url, version, form_id="form-2", question="Can we come later on Tuesday?",
           question_kind="logistics")
    run_rule(rule("hep_family_question"), practice)
    tasks = {t.title: t for t in Task.objects.filter(kind="hep_family_question", status__in=OPEN_STATUSES)}
    therapy = next(t for title, t in tasks.items() if "home practice" in title)
    logistics = next(t for title, t in tasks.items() if "scheduling" in title)
    assert therapy.assignee == therapist and logistics.role == "front_desk" and logistics.assignee is None
    answer_question(actor=therapist, feedback=Feedback.objects.get(question_kind="therapy"))
    run_rule(rule("hep_family_question"), practice)
    assert Task.objects.filter(kind="hep_family_question", status__in=OPEN_STATUSES).count() == 1


def test_low_adherence_opens_a_task_for_the_treating_therapist(send_program, patient, therapist, practice,
                                                               any_hour):
    version, _ = send_program()
    Feedback.objects.create(practice=practice, version=version, guardian=patient.guardians.get(), patient=patient,
                            form_id="low", days_practised=1, days_prescribed=5, window_start=version.created_at)
    run_rule(rule("hep_low_adherence"), practice)
    task = Task.objects.get(kind="hep_low_adherence", status__in=OPEN_STATUSES)
    assert task.assignee == therapist and "1 of 5 days" in task.title
    Feedback.objects.create(practice=practice, version=version, guardian=patient.guardians.get(), patient=patient,
                            form_id="better", days_practised=5, days_prescribed=5, window_start=version.created_at)
    run_rule(rule("hep_low_adherence"), practice)
    assert not Task.objects.filter(kind="hep_low_adherence", status__in=OPEN_STATUSES).exists()
