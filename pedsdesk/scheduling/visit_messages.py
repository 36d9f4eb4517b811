"""What families are told about their visits, in English and Spanish, by text and email.

Texts carry no clinical detail: the practice's name, the child's first name, the local
day and time, and the family link (which holds the rest). No discipline, no therapist,
no diagnosis. Replies are YES / NO: never CANCEL, a carrier opt-out keyword.

Context keys: ``child_first_name``, ``start_at`` (aware datetime), ``url`` (family
link), ``ics_url`` (signed calendar file, email only), ``outcome`` (answers only).
Every key may be missing (the messaging tests render every kind with a bare context).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from pedsdesk import local_time
from pedsdesk.messaging.kinds import MessageKind, Rendered, RenderInput, email_letter, register_kind

REMINDER = "visit_reminder"
CANCELLED = "visit_cancelled"
ANSWER = "visit_reply_answer"

# What a text reply (or the front desk) did, for the answer we send back.
CONFIRMED, ALREADY_CONFIRMED = "confirmed", "already_confirmed"
CANCELLED_NOW, NOT_ACTIVE = "cancelled", "not_active"
RESCHEDULE = "reschedule"


def visit_when(start_at: dt.datetime | None, zone: ZoneInfo) -> str:
    """'Monday, November 2 at 4:00 PM' / 'lunes 2 de noviembre a las 16:00' in the
    active language, on the practice's clock."""
    return local_time.when(start_at, zone)


@dataclass(frozen=True)
class ReminderAddition:
    """Something another workflow asks in the visit reminder itself (one text, so the
    family's per-contact cap is spent once). ``wants(appointment, guardian, send_at)``
    decides when the reminder is queued; ``sms()`` and ``email()`` give the words in the
    active language. Registered from the workflow's AppConfig.ready; the schedule never
    imports the workflow."""

    name: str
    wants: Callable[[Any, Any, dt.datetime], bool]
    sms: Callable[[], str]
    email: Callable[[], str]


_ADDITIONS: dict[str, ReminderAddition] = {}


def register_reminder_addition(addition: ReminderAddition) -> ReminderAddition:
    _ADDITIONS[addition.name] = addition
    return addition


def reminder_additions(appointment, guardian, send_at: dt.datetime) -> list[str]:
    """The names of the additions that want a place in this reminder."""
    return [name for name, addition in _ADDITIONS.items() if addition.wants(appointment, guardian, send_at)]


def _also(data: RenderInput, channel: str) -> str:
    words = [getattr(_ADDITIONS[name], channel)() for name in data.context.get("also") or [] if name in _ADDITIONS]
    return " ".join(words)


def _parts(data: RenderInput) -> dict:
    context = data.context
    child = context.get("child_first_name") or ""
    return {
        "practice": data.practice.name,
        "child": child,
        "when": visit_when(context.get("start_at"), data.practice.zone),
        "url": context.get("url") or "",
        "ics_url": context.get("ics_url") or "",
        "phone": data.practice_phone or _("the office"),
    }


def _subject(p: dict) -> str:
    if p["child"]:
        return _("%(child)s's visit") % p
    return _("Your child's visit")


def _reminder(data: RenderInput) -> Rendered:
    p = _parts(data)
    confirmed = bool(data.context.get("confirmed"))
    if data.channel == "sms":
        if confirmed:
            text = _("%(practice)s: see you %(when)s for %(child)s's visit. To cancel or ask for another time: "
                     "%(url)s") % p
        else:
            text = _("%(practice)s: reminder of %(child)s's visit on %(when)s. Reply YES to confirm or NO to "
                     "cancel. To confirm, cancel or ask for another time: %(url)s") % p
        also = _also(data, "sms")
        return Rendered(_subject(p), f"{text} {also}" if also else text)
    subject = (_("%(child)s's visit on %(when)s") % p) if p["child"] and p["when"] else _subject(p)
    first = (_("We look forward to seeing %(child)s at %(practice)s on %(when)s.") if confirmed
             else _("This is a reminder of %(child)s's visit at %(practice)s on %(when)s.")) % p
    action = (_("To cancel or ask for another time, open:") if confirmed
              else _("Please confirm the visit, cancel it, or ask for another time here:"))
    calendar = (_("Add the visit to your calendar:") + "\n" + p["ics_url"]) if p["ics_url"] else ""
    return email_letter(data, subject, first, action + "\n" + p["url"], _also(data, "email"), calendar,
                  _("The link is for you alone; please do not forward it."))


def _cancelled(data: RenderInput) -> Rendered:
    p = _parts(data)
    if data.channel == "sms":
        text = _("%(practice)s: %(child)s's visit on %(when)s is cancelled. To find another time call %(phone)s "
                 "or open %(url)s") % p
        return Rendered(_("Visit cancelled"), text)
    subject = (_("%(child)s's visit on %(when)s is cancelled") % p) if p["child"] and p["when"] else _(
        "Visit cancelled")
    calendar = (_("Remove it from your calendar:") + "\n" + p["ics_url"]) if p["ics_url"] else ""
    return email_letter(data, subject, _("%(child)s's visit at %(practice)s on %(when)s is cancelled.") % p,
                  _("To find another time, call us at %(phone)s or open:") % p + "\n" + p["url"], calendar)


def _answer(data: RenderInput) -> Rendered:
    p = _parts(data)
    outcome = data.context.get("outcome") or CONFIRMED
    texts = {
        CONFIRMED: _("%(practice)s: thank you, %(child)s's visit on %(when)s is confirmed."),
        ALREADY_CONFIRMED: _("%(practice)s: %(child)s's visit on %(when)s was already confirmed. See you then!"),
        CANCELLED_NOW: _("%(practice)s: %(child)s's visit on %(when)s is cancelled. We will contact you about "
                         "another time."),
        NOT_ACTIVE: _("%(practice)s: %(child)s's visit on %(when)s is no longer booked, so nothing changed. "
                      "Questions? Call %(phone)s."),
        RESCHEDULE: _("%(practice)s: we received your request for another time for %(child)s's visit on %(when)s. "
                      "We will contact you; the visit stays booked until then."),
    }
    text = texts.get(outcome, texts[CONFIRMED]) % p
    if data.channel == "sms":
        return Rendered(_("About your visit"), text)
    # The letter drops the text's "Practice: " prefix and starts as a sentence does.
    sentence = text.split(": ", 1)[-1]
    return email_letter(data, _("About your visit"), sentence[:1].upper() + sentence[1:])


# None of these may wait for tomorrow's allowance: a reminder deferred by the daily cap
# would land after the visit, a cancellation notice after the family set off, and an
# answer to the family's own text is like HELP. Quiet hours still apply (see
# confirmations.reminder_times).
register_kind(MessageKind(REMINDER, _reminder, exempt_from_cap=True, label="Visit reminder"))
register_kind(MessageKind(CANCELLED, _cancelled, exempt_from_cap=True, label="Visit cancelled"))
register_kind(MessageKind(ANSWER, _answer, exempt_from_cap=True, label="Answer to a reply about a visit"))
