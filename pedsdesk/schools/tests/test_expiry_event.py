"""An authorization that ends on an event ("end of the 2026-27 school year", "when the
child leaves the school"): staff record that the event happened, on the page or through
the API, and from then on the gate refuses sends and downloads under it."""

import datetime as dt
import re

import pytest
from django.test import Client

from conftest import signed_in
from pedsdesk.audit.models import AuditEvent
from pedsdesk.messaging.models import MessageState
from pedsdesk.messaging.tests.helpers import deliver
from pedsdesk.practices.actions import create_api_token
from pedsdesk.schools import actions
from pedsdesk.schools.models import ConsentState, DisclosureAuthorization, DisclosureState, InfoCategory
from pedsdesk.schools.tests.conftest import practice_today

pytestmark = pytest.mark.django_db

EVENT = "End of the 2026-27 school year"


@pytest.fixture
def event_authorization(patient, front_desk, contact):
    draft = actions.create_authorization(
        actor=front_desk, patient=patient, categories=[InfoCategory.PROGRESS_SUMMARIES, InfoCategory.MEETINGS],
        purpose="IEP planning at the family's request", recipient_school=patient.school, expiry_event=EVENT)
    return actions.sign_authorization(authorization=draft, guardian=patient.guardians.get(), typed_name="Rosa Lopez",
                                      agreed=True)


def _link_path(received) -> str:
    url = re.search(r"https?://\S+/s/\S+/", received.get_content()).group(0)
    return "/" + url.split("/", 3)[3]


def test_staff_record_the_end_and_the_gate_refuses_sends_and_downloads(smtp_sink, event_authorization,
                                                                       signed_summary, contact, front_desk):
    sent = actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    deliver()
    link = _link_path(smtp_sink.messages[0])
    waiting = actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    client = signed_in(front_desk)
    page = client.get(event_authorization.get_absolute_url()).content.decode()
    assert f"Record that it ended: {EVENT}" in page

    response = client.post(f"/school-authorizations/{event_authorization.pk}/end/",
                           {"happened_on": practice_today().isoformat()}, follow=True)
    shown = response.content.decode()
    assert f"Ended: {EVENT}. Nothing more goes out under it" in shown and "recorded by" in shown
    event_authorization.refresh_from_db()
    assert event_authorization.expiry_event_on == practice_today()
    assert event_authorization.expiry_event_by == front_desk.get_full_name()
    assert AuditEvent.objects.filter(action="school_authorization_expired", actor_id=front_desk.pk).count() == 1

    # The send still waiting in the outbox is withdrawn; nothing more leaves.
    waiting.refresh_from_db()
    assert waiting.state == DisclosureState.STOPPED and waiting.message.state == MessageState.CANCELLED
    assert deliver().sent == 0 and len(smtp_sink.messages) == 1
    # A new send is refused, saying why.
    with pytest.raises(actions.GateRefused) as refused:
        actions.send_summary(actor=front_desk, summary=signed_summary, contact=contact)
    assert f"its expiry event ({EVENT}) happened on" in refused.value.result.reason
    # The link sent before the end no longer opens.
    assert Client().get(link).status_code == 410
    sent.refresh_from_db()
    assert sent.open_count == 0


def test_roles_without_consents_cannot_record_the_end(event_authorization, therapist, billing):
    for user in (therapist, billing):
        response = signed_in(user).post(f"/school-authorizations/{event_authorization.pk}/end/",
                                        {"happened_on": practice_today().isoformat()})
        assert response.status_code == 403
    event_authorization.refresh_from_db()
    assert event_authorization.expiry_event_at is None


def _refusal(client, authorization, day) -> str:
    response = client.post(f"/school-authorizations/{authorization.pk}/end/", {"happened_on": day.isoformat()},
                           follow=True)
    return response.content.decode()


@pytest.mark.parametrize("setup, day, words", [
    ("none", 1, "is in the future; record the event once it has happened"),
    ("none", -1, "is before the family signed"),
    ("revoked", 0, "was revoked on"),
    ("ended", 0, "was recorded already"),
    ("date_passed", 0, "expired on"),
    ("date_only", 0, "ends on a date, not on an event"),
    ("unsigned", 0, "has not signed this authorization yet"),
])
def test_bad_input_is_refused_with_the_reason_and_nothing_changes(event_authorization, front_desk, setup, day,
                                                                   words):
    authorization = event_authorization
    rows = DisclosureAuthorization.objects.filter(pk=authorization.pk)
    if setup == "revoked":
        actions.revoke_authorization(actor=front_desk, authorization=authorization)
    elif setup == "ended":
        actions.record_expiry_event(actor=front_desk, authorization=authorization, happened_on=practice_today())
    elif setup == "date_passed":
        rows.update(expires_on=practice_today() - dt.timedelta(days=1))
    elif setup == "date_only":
        rows.update(expiry_event="", expires_on=practice_today() + dt.timedelta(days=30))
    elif setup == "unsigned":
        rows.update(state=ConsentState.DRAFT)
    before = rows.values("expiry_event_at", "expiry_event_on", "state").get()
    events = AuditEvent.objects.filter(action="school_authorization_expired").count()
    shown = _refusal(signed_in(front_desk), authorization, practice_today() + dt.timedelta(days=day))
    assert "Not recorded:" in shown and words in shown
    assert rows.values("expiry_event_at", "expiry_event_on", "state").get() == before
    assert AuditEvent.objects.filter(action="school_authorization_expired").count() == events


def _api(user) -> Client:
    return Client(headers={"authorization": f"Bearer {create_api_token(staff_member=user, name='tests')}"})


def test_the_api_records_the_end_once_and_refuses_bad_input(event_authorization, front_desk, therapist, outsider):
    url = f"/api/v1/school-authorizations/{event_authorization.pk}/end"
    today = practice_today().isoformat()
    assert _api(therapist).post(url, {"happened_on": today}, content_type="application/json").status_code == 403
    assert _api(outsider).post(url, {"happened_on": today}, content_type="application/json").status_code == 404
    client = _api(front_desk)
    future = client.post(url, {"happened_on": (practice_today() + dt.timedelta(days=3)).isoformat()},
                         content_type="application/json")
    assert future.status_code == 422 and "in the future" in future.json()["fields"]["happened_on"][0]
    bad = client.post(url, {"happened_on": "soon"}, content_type="application/json")
    assert bad.status_code == 422 and "happened_on" in bad.json()["fields"]

    done = client.post(url, {"happened_on": today}, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["expiry_event_on"] == today and done.json()["expiry_event"] == EVENT
    again = client.post(url, {"happened_on": today}, content_type="application/json")
    assert again.status_code == 422 and "was recorded already" in again.json()["message"]
    assert AuditEvent.objects.filter(action="school_authorization_expired").count() == 1


def test_the_family_page_says_in_spanish_that_the_form_ended(event_authorization, patient, front_desk):
    from pedsdesk.portal.actions import create_family_link

    rosa = patient.guardians.get()
    rosa.language = "es"
    rosa.save()
    _, url = create_family_link(actor=front_desk, guardian=rosa, patient=patient)
    page = "/" + url.split("/", 3)[3] + "school-consents/"
    assert "Revocar este formulario" in Client().get(page).content.decode()
    actions.record_expiry_event(actor=front_desk, authorization=event_authorization, happened_on=practice_today())
    shown = Client().get(page).content.decode()
    assert "Este formulario terminó el" in shown and EVENT in shown and "Ya no se comparte nada más" in shown
    assert "Revocar este formulario" not in shown
