"""Opt-out words in English and Spanish, read in the whole text (issue 13, item 3)."""

import pytest

from pedsdesk.messaging.models import InboundMessage, PhoneOptOut
from pedsdesk.messaging.replies import keyword_of
from pedsdesk.messaging.tests.conftest import inbound_params
from pedsdesk.workqueue.models import Task

pytestmark = pytest.mark.django_db

OPT_OUTS = ["REVOKE", "OPT OUT", "OPTOUT", "Please stop texting me", "ALTO", "BAJA", "PARAR", "CANCELAR",
            "no más mensajes", "No mas mensajes por favor", "stop sending these please", "no more", "No more!",
            "Hi, this is Rosa. Please unsubscribe me from these", "Can you please end these texts",
            "Por favor dejen de mandarme mensajes", "quiero darme de baja", "I want to opt out."]
NOT_OPT_OUTS = ["don't stop the visits", "Please don't stop the therapy", "Por favor no paren las terapias"]
UNRELATED = ["I can't make it on Tuesday, can we stop by Wednesday instead", "I need to cancel Tuesday's visit",
             "See you at the end of the day", "no later than 5 please", "No más tarde de las 5", "yes", "no"]


@pytest.mark.parametrize("text", OPT_OUTS)
def test_opt_out_words_anywhere_in_a_text_opt_the_number_out(twilio_post, practice, patient, text):
    response = twilio_post("twilio_inbound", inbound_params(text))
    assert response.status_code == 200
    rosa = patient.guardians.get()
    assert rosa.sms_opted_out_at is not None, text
    assert PhoneOptOut.objects.filter(practice=practice, phone=rosa.phone).exists()
    assert InboundMessage.objects.get().keyword == "stop"


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_a_text_that_plainly_does_not_mean_stop_goes_to_a_person(twilio_post, practice, patient, text):
    twilio_post("twilio_inbound", inbound_params(text))
    rosa = patient.guardians.get()
    assert rosa.sms_opted_out_at is None and not PhoneOptOut.objects.exists()
    task = Task.objects.get(kind="sms_reply")
    assert text in task.reason and "not turned off" in task.reason
    assert InboundMessage.objects.get().keyword == "unclear"


@pytest.mark.parametrize("text", UNRELATED)
def test_texts_that_do_not_talk_about_stopping_are_not_keywords(text):
    assert keyword_of(text) is None
