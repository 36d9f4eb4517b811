"""The one interface every transport implements."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    response: str = ""


class DeliveryError(Exception):
    """The provider did not take the message. ``code`` is the provider's error code."""

    permanent = False

    def __init__(self, text: str, *, code: str = "", contact_failing: bool = False, opted_out: bool = False,
                 in_doubt: bool = False):
        super().__init__(text)
        self.code = str(code or "")
        self.contact_failing = contact_failing
        self.opted_out = opted_out
        #: the provider may have taken the message before the error (a timeout after sending)
        self.in_doubt = in_doubt


class TransientError(DeliveryError):
    """Try again later (timeouts, 4xx SMTP replies, HTTP 429/5xx)."""


class PermanentError(DeliveryError):
    """Never try this message again; ``contact_failing`` marks the address,
    ``opted_out`` records a carrier-level opt-out."""

    permanent = True


def reference_for(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def reference(message) -> str:
    """A stable identifier derived from the idempotency key: the same on every retry."""
    return reference_for(message.idempotency_key)


def message_id(message) -> str:
    """RFC 5322 Message-ID of an email, derived from its idempotency key."""
    return f"<{reference(message)}@{settings.PEDSDESK_MESSAGE_ID_DOMAIN}>"


class Transport:
    """Hands messages of one channel to a provider.

    ``send`` either returns (the provider accepted the message) or raises a
    DeliveryError. It must give up within ``timeout`` seconds: the worker's lease
    depends on it. ``lookup`` answers "did the provider accept this message since
    ``since``?" after a worker died mid-send: True, False, or None when the provider
    cannot tell (then the message is sent again with the same identifier).
    """

    name = "base"
    timeout: float = 15.0

    def __init__(self, *, channel: str):
        self.channel = channel

    def open(self) -> None:
        """Prepare for several sends (e.g. one SMTP connection)."""

    def close(self) -> None:
        """Release what ``open`` took; safe to call twice."""

    def send(self, message) -> SendResult:
        raise NotImplementedError

    def lookup(self, message, since: dt.datetime) -> bool | None:
        return None
