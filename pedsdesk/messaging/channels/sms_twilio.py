"""SMS through Twilio's REST API with the official ``twilio`` package.

Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, and TWILIO_FROM_NUMBER or
TWILIO_MESSAGING_SERVICE_SID (a practice's MessagingPolicy.sms_from_number overrides
the number); TWILIO_API_BASE_URL points the client elsewhere (tests). The status
callback URL carries our reference for the message, derived from its idempotency key,
so a callback identifies the message even when the worker died before recording
Twilio's MessageSid.
"""

from __future__ import annotations

import datetime as dt

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from pedsdesk.messaging.channels.base import PermanentError, SendResult, TransientError, Transport, reference

# The number can never receive texts: invalid, not a mobile, unreachable by SMS.
NUMBER_FAILING_CODES = {21211, 21214, 21217, 21612, 21614}
# The recipient replied STOP to this sender at the carrier (Twilio refuses to send).
UNSUBSCRIBED_CODES = {21610}


def twilio_client(timeout: float | None = None) -> Client:
    client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN,
                    http_client=TwilioHttpClient(timeout=timeout or settings.TWILIO_TIMEOUT))
    if settings.TWILIO_API_BASE_URL:
        client.api.base_url = settings.TWILIO_API_BASE_URL.rstrip("/")
    return client


def status_callback_url(message) -> str:
    return f"{settings.PEDSDESK_BASE_URL.rstrip('/')}{reverse('twilio_status')}?ref={reference(message)}"


class TwilioTransport(Transport):
    name = "twilio"

    def __init__(self, *, channel: str):
        super().__init__(channel=channel)
        self.timeout = settings.TWILIO_TIMEOUT
        self._client = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = twilio_client(self.timeout)
        return self._client

    def sender(self, message) -> dict:
        from pedsdesk.messaging.rules import policy_for

        own = policy_for(message.practice).sms_from_number
        if own:
            return {"from_": own}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            return {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        return {"from_": settings.TWILIO_FROM_NUMBER}

    def send(self, message) -> SendResult:
        try:
            sent = self.client.messages.create(to=message.to_address, body=message.body,
                                               status_callback=status_callback_url(message),
                                               attempt=message.attempts, **self.sender(message))
        except TwilioRestException as exc:
            code = int(exc.code or 0)
            text = f"Twilio {exc.status} error {code}: {exc.msg}"[:300]
            if code in UNSUBSCRIBED_CODES:
                raise PermanentError(text, code=str(code), opted_out=True) from None
            if code in NUMBER_FAILING_CODES:
                raise PermanentError(text, code=str(code), contact_failing=True) from None
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(text, code=str(code), in_doubt=exc.status >= 500) from None
            raise PermanentError(text, code=str(code)) from None
        except requests.exceptions.ConnectTimeout as exc:
            raise TransientError(f"Twilio unreachable: {type(exc).__name__}") from None
        except (requests.exceptions.RequestException, TwilioException) as exc:
            raise TransientError(f"Twilio: {type(exc).__name__}", in_doubt=True) from None
        return SendResult(provider_id=sent.sid, response=f"status {sent.status}")

    def lookup(self, message, since: dt.datetime) -> bool | None:
        """Twilio keeps no idempotency key: look for a text to the same number with the
        same body created since the attempt began."""
        try:
            recent = self.client.messages.list(to=message.to_address, limit=20)
        except (TwilioException, requests.exceptions.RequestException):
            return None
        slack = dt.timedelta(minutes=2)
        for item in recent:
            if item.body and message.body in item.body and (item.date_created is None
                                                            or item.date_created >= since - slack):
                return True
        return False

