"""Transports: one small module per way of handing a message to the world.

Each implements ``base.Transport``; settings pick one per channel
(``PEDSDESK_EMAIL_CHANNEL``: console | smtp, ``PEDSDESK_SMS_CHANNEL``: console | twilio,
or a dotted path to a Transport subclass), so a fax or portal-inbox transport is added
the same way.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from pedsdesk.messaging.channels.base import Transport

BUILTIN = {
    "console": "pedsdesk.messaging.channels.console.ConsoleTransport",
    "smtp": "pedsdesk.messaging.channels.email.SmtpTransport",
    "twilio": "pedsdesk.messaging.channels.sms_twilio.TwilioTransport",
}


def transport_for(channel: str) -> Transport:
    name = settings.PEDSDESK_EMAIL_CHANNEL if channel == "email" else settings.PEDSDESK_SMS_CHANNEL
    cls = import_string(BUILTIN.get(name, name))
    return cls(channel=channel)
