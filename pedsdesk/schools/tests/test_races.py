"""Races, on SQLite and PostgreSQL (with DATABASE_URL): two staff ending one authorization
at once, a revocation racing the outbox's last gate check, two signatures of one form,
two clicks asking the family to sign. Threads on real connections, as two browsers and a
worker would; each action locks the authorization row and reads its state under the lock,
so the later one sees what the first did."""

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from pedsdesk.audit.models import AuditEvent
from pedsdesk.messaging.delivery import DeliveryStats, _deliver_one, _Transports, deliver_due
from pedsdesk.messaging.models import Message, MessageState
from pedsdesk.messaging.tests.helpers import daytime
from pedsdesk.schools import actions
from pedsdesk.schools.models import ConsentState, Disclosure, DisclosureAuthorization, DisclosureState, InfoCategory
from pedsdesk.schools.queries import disclosures_of
from pedsdesk.schools.tests.conftest import practice_today

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 4


@pytest.fixture(autouse=True)
def worker_only(settings):
    """Only the worker of each test sends (no kick after commit, as the real worker runs apart)."""
    settings.PEDSDESK_MESSAGING_KICK = False


def race(*steps: Callable[[], object]) -> list[str]:
    """Run the steps at once; each result is "ok", or the refusal's first message."""
    barrier = threading.Barrier(len(steps))
    results: list[str] = [""] * len(steps)

    def run(i: int, step: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = step()
            results[i] = "ok" if outcome is not False else "no-op"
        except actions.SchoolError as exc:
            results[i] = exc.messages[0]
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(results), f"a step did not finish: {results}"
    return results


def _signed(patient, front_desk, **fields) -> DisclosureAuthorization:
    draft = actions.create_authorization(
        actor=front_desk, patient=patient, categories=[InfoCategory.PROGRESS_SUMMARIES], purpose="IEP planning",
        recipient_school=patient.school, **({"expires_on": practice_today() + dt.timedelta(days=90)} | fields))
    return actions.sign_authorization(authorization=draft, guardian=patient.guardians.get(), typed_name="Rosa Lopez",
                                      agreed=True)


def _fresh(authorization) -> DisclosureAuthorization:
    return DisclosureAuthorization.objects.get(pk=authorization.pk)


# Each step loads the authorization itself, as each request would.
def revoke(who, authorization) -> Callable[[], object]:
    return lambda: actions.revoke_authorization(actor=who, authorization=_fresh(authorization))


def end(who, authorization, day: dt.date) -> Callable[[], object]:
    return lambda: actions.record_expiry_event(actor=who, authorization=_fresh(authorization), happened_on=day)


def sign(draft, guardian) -> Callable[[], object]:
    return lambda: actions.sign_authorization(authorization=_fresh(draft), guardian=guardian,
                                              typed_name="Rosa Lopez", agreed=True)


def test_two_staff_revoking_at_once_revoke_once(patient, front_desk, office_manager):
    for _ in range(ROUNDS):
        authorization = _signed(patient, front_desk)
        results = race(revoke(front_desk, authorization), revoke(office_manager, authorization))
        assert sorted(results) == ["no-op", "ok"]
        assert AuditEvent.objects.filter(action="school_authorization_revoked",
                                         object_id=str(authorization.pk)).count() == 1


def test_two_staff_recording_the_end_at_once_record_it_once(patient, front_desk, office_manager):
    today = practice_today()
    for _ in range(ROUNDS):
        authorization = _signed(patient, front_desk, expires_on=None, expiry_event="When Ava leaves Maple")
        results = race(end(front_desk, authorization, today), end(office_manager, authorization, today))
        assert results.count("ok") == 1 and "was recorded already" in " ".join(results)
        assert AuditEvent.objects.filter(action="school_authorization_expired",
                                         object_id=str(authorization.pk)).count() == 1


def test_a_revocation_and_the_end_at_once_leave_one_clear_outcome(patient, front_desk, office_manager):
    today = practice_today()
    for _ in range(ROUNDS):
        authorization = _signed(patient, front_desk, expiry_event="End of the school year")
        results = race(revoke(front_desk, authorization), end(office_manager, authorization, today))
        final = _fresh(authorization)
        assert final.state == ConsentState.REVOKED  # a revocation always stands
        if results[1] == "ok":  # the end came first, and the revocation after it still holds
            assert final.expiry_event_on == today
        else:
            assert "was revoked on" in results[1] and final.expiry_event_at is None


def test_two_signatures_of_one_form_at_once_sign_it_once(patient, front_desk):
    guardian = patient.guardians.get()
    for _ in range(ROUNDS):
        draft = actions.create_authorization(
            actor=front_desk, patient=patient, categories=[InfoCategory.PROGRESS_SUMMARIES], purpose="IEP planning",
            recipient_school=patient.school, expires_on=practice_today() + dt.timedelta(days=90))
        results = race(sign(draft, guardian), sign(draft, guardian))
        assert results.count("ok") == 1 and "already signed" in " ".join(results)
        signed = _fresh(draft)
        assert signed.state == ConsentState.SIGNED and signed.version == 1 and signed.document_id
        assert AuditEvent.objects.filter(action="school_authorization_signed", object_id=str(draft.pk)).count() == 1


def test_two_clicks_asking_the_family_at_once_make_one_draft(patient, front_desk, office_manager, contact):
    results = race(*(lambda who=who: actions.request_family_signature(actor=who, patient=patient, contact=contact)
                     for who in (front_desk, office_manager)))
    assert results == ["ok", "ok"]
    assert DisclosureAuthorization.objects.filter(patient=patient, state=ConsentState.DRAFT).count() == 1


# --- A revocation racing the outbox ------------------------------------------------------

def _queued(patient, front_desk, summary, contact) -> tuple[DisclosureAuthorization, Disclosure]:
    authorization = _signed(patient, front_desk)
    return authorization, actions.send_summary(actor=front_desk, summary=summary, contact=contact)


def assert_the_record_is_true(disclosure: Disclosure) -> bool:
    """Sent, and recorded as sent; or stopped, recorded as stopped, and nothing left."""
    disclosure.refresh_from_db()
    message = Message.objects.get(pk=disclosure.message_id)
    went = message.state == MessageState.SENT
    if went:
        assert disclosure.state == DisclosureState.QUEUED, "sent, but the record says it was stopped"
        [row] = [r for r in disclosures_of(disclosure.patient) if r.pk == disclosure.pk]
        assert row.status_text.startswith("Sent")
    else:
        assert message.state == MessageState.CANCELLED and disclosure.state == DisclosureState.STOPPED
    return went


def test_a_revocation_while_the_worker_hands_the_email_over_keeps_a_true_record(
        smtp_sink, patient, front_desk, signed_summary, contact):
    """The last gate check passed, then the family revoked, then the email left: it was
    disclosed under a valid authorization, and the record must say it was sent."""
    authorization, disclosure = _queued(patient, front_desk, signed_summary, contact)
    pool = _Transports()
    email = pool.get("email")
    real_send = email.send

    def send(message):
        revoke("family link #1", authorization)()
        return real_send(message)

    email.send = send
    _deliver_one(disclosure.message_id, now=daytime(), pool=pool, stats=DeliveryStats())
    pool.close()
    assert assert_the_record_is_true(disclosure)
    assert len(smtp_sink.messages) == 1


def test_a_revocation_after_the_claim_and_before_the_check_stops_the_email(smtp_sink, patient, front_desk,
                                                                          signed_summary, contact):
    authorization, disclosure = _queued(patient, front_desk, signed_summary, contact)
    pool = _Transports()
    original = pool.get

    def get(channel):  # the worker holds the claim; the last check has not run yet
        revoke("family link #1", authorization)()
        return original(channel)

    pool.get = get
    _deliver_one(disclosure.message_id, now=daytime(), pool=pool, stats=DeliveryStats())
    pool.close()
    assert not assert_the_record_is_true(disclosure)
    assert smtp_sink.messages == []


def test_a_revocation_racing_the_worker_never_sends_unrecorded(smtp_sink, patient, front_desk, signed_summary,
                                                               contact):
    outcomes = set()
    for _ in range(ROUNDS * 2):
        authorization, disclosure = _queued(patient, front_desk, signed_summary, contact)
        race(lambda: deliver_due(now=daytime()), revoke("family link #1", authorization))
        outcomes.add(assert_the_record_is_true(disclosure))
        # Whatever won, nothing more can leave under it.
        deliver_due(now=daytime())
    sent = Message.objects.filter(kind="school_document", state=MessageState.SENT).count()
    assert len(smtp_sink.messages) == sent
    assert outcomes  # which side wins is the scheduler's choice; each outcome is recorded truly
