"""The Messages page and clearing a failing channel: who may, and nothing leaks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import ROLES
from pedsdesk.messaging.actions import queue_message
from pedsdesk.messaging.models import ChannelFailure
from pedsdesk.practices.permissions import has_permission

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing(practice, patient):
    rosa = patient.guardians.get()
    queue_message(practice=practice, kind="notice", recipient=rosa, context={}, idempotency_key="p:1")
    return ChannelFailure.objects.create(practice=practice, guardian=rosa, channel="sms", address=rosa.phone,
                                         reason="Twilio 400 error 21211")


@pytest.mark.parametrize("role", ROLES)
def test_roles_get_what_the_table_grants(role, staff, failing, client_for):
    user = staff[role]
    page = client_for(user).get(reverse("messaging_outbox"))
    assert page.status_code == (200 if has_permission(user, "messages.view") else 403)
    if page.status_code == 200:
        assert b"Rosa Lopez" in page.content and b"21211" in page.content
    response = client_for(user).post(reverse("channel_failure_clear", args=[failing.guardian_id]),
                                     {"channel": "sms"})
    failing.refresh_from_db()
    if has_permission(user, "guardians.edit"):
        assert response.status_code == 302 and failing.cleared_at is not None
    else:
        assert response.status_code == 403 and failing.cleared_at is None


def test_outsiders_and_anonymous_visitors(outsider, failing, client_for, client):
    page = client_for(outsider).get(reverse("messaging_outbox"))
    assert page.status_code == 200 and b"Lopez" not in page.content
    url = reverse("channel_failure_clear", args=[failing.guardian_id])
    assert client_for(outsider).post(url, {"channel": "sms"}).status_code == 404
    assert client.get(reverse("messaging_outbox"))["Location"].startswith("/login/")
    assert client.post(url)["Location"].startswith("/login/")
    assert client_for(outsider).get(url).status_code == 405


def test_owner_edits_the_messaging_policy_in_the_admin(owner, practice, outsider, client_for):
    from pedsdesk.messaging.models import MessagingPolicy

    mine = MessagingPolicy.objects.create(practice=practice)
    theirs = MessagingPolicy.objects.create(practice=outsider.practice)
    client = client_for(owner)
    assert client.get(f"/admin/messaging/messagingpolicy/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/messaging/messagingpolicy/{theirs.pk}/change/").status_code == 302


def test_the_page_shows_each_message_in_words_and_as_sent_without_link_tokens(
        practice, patient, front_desk, client_for, django_assert_max_num_queries):
    rosa = patient.guardians.get()
    queue_message(practice=practice, kind="portal_link", recipient=rosa, channel="sms", idempotency_key="p:2",
                  context={"url": "http://127.0.0.1:8000/f/MQ:1xYV:secret-token/"})
    queue_message(practice=practice, kind="notice", recipient=rosa, channel="email", idempotency_key="p:3",
                  context={})
    client = client_for(front_desk)
    client.get(reverse("messaging_outbox"))
    with CaptureQueriesContext(connection) as few:
        body = client.get(reverse("messaging_outbox")).content.decode()
    for n in range(4, 10):
        queue_message(practice=practice, kind="notice", recipient=rosa, channel="email", idempotency_key=f"p:{n}",
                      context={})
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("messaging_outbox"))
    assert "Link to the family page" in body and "portal_link" not in body
    assert "your child&#x27;s page is ready: http://127.0.0.1:8000/f/…/" in body
    assert "secret-token" not in body
    assert "Please call us" in body and "A message from Sunny Steps Pediatric Therapy" in body
    assert "Text as sent" in body


def test_every_registered_kind_has_words_for_staff():
    from pedsdesk.messaging.kinds import kind_of, registered_kinds

    unnamed = [kind for kind in registered_kinds() if not kind_of(kind).label]
    assert not unnamed, f"give these kinds a label= for the Messages page: {unnamed}"
