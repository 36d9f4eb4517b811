"""Email over SMTP through Django's email machinery (EMAIL_HOST, EMAIL_PORT, EMAIL_USE_TLS,
EMAIL_HOST_USER/PASSWORD, set from PEDSDESK_SMTP_*). Every email's Message-ID is derived
from its idempotency key, so a repeat after a crash is recognisably the same email."""

from __future__ import annotations

import contextlib
import datetime as dt
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection

from pedsdesk.messaging.channels.base import PermanentError, SendResult, TransientError, Transport, message_id

# Replies that mean this mailbox will never take mail (RFC 5321 / 3463).
_BAD_MAILBOX_CODES = {550, 551, 553}


def _refused(code: int, text: str) -> PermanentError | TransientError:
    if 500 <= code < 600:
        bad_mailbox = code in _BAD_MAILBOX_CODES or " 5.1." in f" {text}"
        return PermanentError(f"SMTP {code} {text}"[:300], code=str(code), contact_failing=bad_mailbox)
    return TransientError(f"SMTP {code} {text}"[:300], code=str(code))


class SmtpTransport(Transport):
    name = "smtp"

    def __init__(self, *, channel: str):
        super().__init__(channel=channel)
        self.timeout = settings.PEDSDESK_SMTP_TIMEOUT
        self.connection = None

    def open(self) -> None:
        if self.connection is None:
            self.connection = get_connection(fail_silently=False, timeout=self.timeout)
            # Opened here, the connection carries every email of the sweep (SMTP backends;
            # others ignore it).
            self.connection.open()

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # the server went away already
                self.connection.close()
            self.connection = None

    def build(self, message) -> EmailMessage:
        practice = message.practice
        headers = {"Message-ID": message_id(message), "Auto-Submitted": "auto-generated"}
        reply_to = [practice.email] if practice.email else None
        parts = list(message.attachments.all()) if message.pk else []
        email = (EmailMultiAlternatives if parts else EmailMessage)(
            subject=message.subject, body=message.body, to=[message.to_address],
            from_email=formataddr((practice.name, settings.DEFAULT_FROM_EMAIL)),
            headers=headers, reply_to=reply_to, connection=self.connection)
        # multipart/mixed → multipart/alternative (text, calendar) + files: the shape
        # calendar clients read as an invitation (RFC 6047).
        for part in parts:
            content = bytes(part.content)
            if part.alternative:
                email.attach_alternative(content.decode(), part.content_type)
            else:
                email.attach(part.filename, content, part.content_type)
        return email

    def send(self, message) -> SendResult:
        try:
            self.open()
        except (smtplib.SMTPException, OSError) as exc:
            # No connection, so certainly not sent.
            self.close()
            raise TransientError(f"cannot reach the SMTP server: {type(exc).__name__}: {exc}"[:300]) from None
        email = self.build(message)
        try:
            sent = self.connection.send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            code, text = next(iter(exc.recipients.values()))
            raise _refused(code, text.decode(errors="replace") if isinstance(text, bytes) else str(text)) from None
        except smtplib.SMTPSenderRefused as exc:
            # Our sender address: a configuration problem, not the family's.
            self.close()
            raise TransientError(f"sender refused: SMTP {exc.smtp_code}", code=str(exc.smtp_code)) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            raise _refused(exc.smtp_code, text) from None
        except (smtplib.SMTPException, OSError) as exc:
            # Disconnected or timed out: perhaps after the server took the message.
            self.close()
            raise TransientError(f"{type(exc).__name__}: {exc}"[:300], in_doubt=True) from None
        if not sent:
            raise TransientError("the email backend sent nothing", in_doubt=True)
        return SendResult(provider_id=message_id(message), response="250 accepted")

    def lookup(self, message, since: dt.datetime) -> bool | None:
        """Plain SMTP cannot say whether a message was accepted; a provider lookup URL can."""
        url = settings.PEDSDESK_EMAIL_LOOKUP_URL
        if not url:
            return None
        query = urllib.parse.urlencode({"message_id": message_id(message)})
        try:
            with urllib.request.urlopen(f"{url}?{query}", timeout=self.timeout) as response:  # noqa: S310
                return response.status == 200
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return False
            return None
        except OSError:
            return None
