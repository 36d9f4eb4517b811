"""What a family reads when an offered time is booked or taken, or when we answer a reply,
by email: a letter (greeted, signed), in their language, on the practice's clock."""

import datetime as dt

import pytest

from conftest import make_guardian
from pedsdesk.messaging.kinds import render

pytestmark = pytest.mark.django_db


def _evening_start(practice) -> dt.datetime:
    # 21:30 in Chicago is already the next day in UTC: the letter says the Chicago day.
    return practice.local_now().replace(hour=21, minute=30, second=0, microsecond=0) + dt.timedelta(days=2)


def test_booked_offer_email_is_a_letter_in_english(practice, patient):
    rosa = make_guardian(patient, email="rosa@example.com")
    start = _evening_start(practice)
    mail = render(kind="offer_booked", practice=practice, recipient=rosa, channel="email", language="en",
                  context={"child": "Ava", "start": start})
    day = f"{start:%A}, {start:%B} {start.day}"
    assert mail.subject == "Ava's visit is booked"
    assert mail.body.startswith("Hello Rosa,\n\n")
    assert f"Ava's visit at {practice.name} is booked for {day} at 9:30 PM. See you then!" in mail.body
    assert mail.body.rstrip().endswith(f"{practice.name} · (512) 555-0100")


def test_booked_and_taken_emails_in_spanish(practice, patient):
    rosa = make_guardian(patient, language="es", email="rosa@example.com")
    start = _evening_start(practice)
    booked = render(kind="offer_booked", practice=practice, recipient=rosa, channel="email", language="es",
                    context={"child": "Ava", "start": start})
    assert booked.subject == "La cita de Ava está reservada"
    assert booked.body.startswith("Hola Rosa:\n\n")
    assert "a las 21:30. ¡Hasta pronto!" in booked.body
    taken = render(kind="offer_taken", practice=practice, recipient=rosa, channel="email", language="es",
                   context={"child": "Ava", "start": start})
    assert taken.body.startswith("Hola Rosa:\n\nLo sentimos, otra familia acaba de tomar el horario del ")
    assert "Sigue en nuestra lista" in taken.body
    text = render(kind="offer_booked", practice=practice, recipient=rosa, channel="sms", language="es",
                  context={"child": "Ava", "start": start})
    assert "¡reservada! La cita de Ava es el " in text.body and "a las 21:30." in text.body


def test_answer_email_starts_with_a_capital(practice, patient):
    rosa = make_guardian(patient, language="es", email="rosa@example.com")
    for language, first in (("en", "Thank you, Ava's visit"), ("es", "Gracias, la cita de Ava")):
        mail = render(kind="visit_reply_answer", practice=practice, recipient=rosa, channel="email",
                      language=language, context={"child_first_name": "Ava", "start_at": _evening_start(practice),
                                                  "outcome": "confirmed"})
        assert f"\n\n{first}" in mail.body, mail.body


def test_spanish_offer_text_reads_naturally(practice, patient):
    rosa = make_guardian(patient, language="es")
    start = _evening_start(practice)
    text = render(kind="opening_offer", practice=practice, recipient=rosa, channel="sms", language="es",
                  context={"child": "Ava", "start": start, "expires": start - dt.timedelta(hours=3),
                           "url": "https://example.test/f/x/"})
    assert "Responda SÍ para tomarla (es para la primera familia que responda) o NO para pasar" in text.body
    reminder = render(kind="visit_reminder", practice=practice, recipient=rosa, channel="sms", language="es",
                      context={"child_first_name": "Ava", "start_at": start, "url": "https://example.test/f/x/"})
    assert "Responda SÍ para confirmar" in reminder.body


def test_english_visit_texts_say_on_before_the_day(practice, patient):
    rosa = make_guardian(patient)
    start = _evening_start(practice)
    day = f"{start:%A}, {start:%B} {start.day}"
    context = {"child_first_name": "Ava", "start_at": start, "url": "https://example.test/f/x/"}
    reminder = render(kind="visit_reminder", practice=practice, recipient=rosa, channel="sms", language="en",
                      context=context)
    assert f"reminder of Ava's visit on {day} at 9:30 PM. Reply YES" in reminder.body
    cancelled = render(kind="visit_cancelled", practice=practice, recipient=rosa, channel="sms", language="en",
                       context=context)
    assert f"Ava's visit on {day} at 9:30 PM is cancelled." in cancelled.body
    spanish = render(kind="visit_cancelled", practice=practice, recipient=rosa, channel="sms", language="es",
                     context=context)
    assert "la cita de Ava el " in spanish.body and " on " not in spanish.body
