"""Rules for sending, evaluated when a worker is about to send, in the practice's time zone.

- Opted-out numbers and failing channels are never sent to (the message is suppressed).
- Quiet hours (default 20:00–08:00 local): a text waits until the window opens.
- Per-contact cap (default 1 non-urgent text a local day, 3 in seven local days): a
  text over the cap waits for the first day with room, at the end of quiet hours.

Local days are computed with zoneinfo, so a day is 23 or 25 hours long across a
daylight-saving change and 08:00 is 08:00 on the clock either way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pedsdesk.messaging.kinds import kind_of
from pedsdesk.messaging.models import (
    Channel,
    ChannelFailure,
    Message,
    MessageState,
    MessagingPolicy,
    PhoneOptOut,
)

SEND, DEFER, SUPPRESS = "send", "defer", "suppress"


@dataclass(frozen=True)
class Decision:
    action: str
    address: str = ""
    until: dt.datetime | None = None
    reason: str = ""


def policy_for(practice) -> MessagingPolicy:
    return MessagingPolicy.for_practice_id(practice.pk)


def current_address(message: Message) -> str:
    """Where the message goes now: the contact's current number or address."""
    contact = message.guardian or message.staff_member
    if contact is None:
        # An outside contact: the address it was queued to (a pre-send check vouches for it).
        return message.to_address if kind_of(message.kind).for_external else ""
    return (contact.phone if message.channel == Channel.SMS else contact.email) or ""


@dataclass(frozen=True)
class Blocked:
    """A practice's opted-out numbers and failing (channel, address) pairs, read at once."""

    opted_out: frozenset[str]
    failing: frozenset[tuple[str, str]]


def blocked_addresses(practice) -> Blocked:
    return Blocked(
        frozenset(PhoneOptOut.objects.filter(practice=practice).values_list("phone", flat=True)),
        frozenset((channel, address.lower()) for channel, address in ChannelFailure.objects.filter(
            practice=practice, cleared_at__isnull=True).values_list("channel", "address")))


def unreachable_reason(*, practice, contact, channel: str, address: str, kind: str = "",
                       blocked: Blocked | None = None) -> str:
    """Why ``contact`` cannot get anything on ``channel`` at ``address`` now ('' if it can).
    ``blocked``: the practice's blocked addresses already read (when queueing many)."""
    if not address:
        return f"no {'mobile number' if channel == Channel.SMS else 'email address'} on file"
    if channel == Channel.SMS:
        if not hasattr(contact, "sms_consent_at"):
            return "staff members get email only"
        exempt = bool(kind) and kind_of(kind).exempt_from_opt_out
        if not exempt:
            opted_out = (address in blocked.opted_out if blocked is not None
                         else PhoneOptOut.objects.filter(practice=practice, phone=address).exists())
            if contact.sms_opted_out_at or opted_out:
                return "the number opted out of texts (STOP)"
            if not contact.sms_consent_at:
                return "no consent to texts on file"
    failing = ((channel, address.lower()) in blocked.failing if blocked is not None
               else ChannelFailure.objects.filter(practice=practice, channel=channel, address__iexact=address,
                                                  cleared_at__isnull=True).exists())
    if failing:
        return f"the {'number' if channel == Channel.SMS else 'address'} is marked failing"
    return ""


def in_quiet_hours(local: dt.datetime, policy: MessagingPolicy) -> bool:
    start, end, t = policy.quiet_start, policy.quiet_end, local.time()
    if start == end:
        return False
    if start > end:  # wraps midnight, e.g. 20:00–08:00
        return t >= start or t < end
    return start <= t < end


def local_datetime(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """``day`` at ``at`` on the local clock, as an aware datetime (first one if it occurs twice)."""
    return dt.datetime.combine(day, at, tzinfo=zone)


def window_opens(local: dt.datetime, policy: MessagingPolicy, zone: ZoneInfo) -> dt.datetime:
    """The first instant at or after ``local`` outside quiet hours."""
    if not in_quiet_hours(local, policy):
        return local
    candidate = local_datetime(local.date(), policy.quiet_end, zone)
    if candidate <= local:
        candidate = local_datetime(local.date() + dt.timedelta(days=1), policy.quiet_end, zone)
    return candidate


def _cap_allows(day: dt.date, counted: list[dt.datetime], policy: MessagingPolicy, zone: ZoneInfo) -> bool:
    local_days = [c.astimezone(zone).date() for c in counted]
    today = sum(d == day for d in local_days)
    week = sum(day - dt.timedelta(days=6) <= d <= day for d in local_days)
    return today < policy.sms_per_day and week < policy.sms_per_week


def counted_texts(message: Message, since: dt.datetime) -> list[dt.datetime]:
    """When earlier non-urgent texts to the same number were handed to a worker."""
    exempt = [k for k in _exempt_kinds()]
    return list(
        Message.objects.filter(practice_id=message.practice_id, channel=Channel.SMS, to_address=message.to_address,
                               urgent=False, counted_at__gte=since,
                               state__in=[MessageState.SENDING, MessageState.SENT, MessageState.DELIVERED])
        .exclude(pk=message.pk).exclude(kind__in=exempt).values_list("counted_at", flat=True)
    )


def _exempt_kinds() -> list[str]:
    from pedsdesk.messaging.kinds import _KINDS

    return [name for name, spec in _KINDS.items() if spec.exempt_from_cap]


def decide(message: Message, now: dt.datetime) -> Decision:
    """Send now, wait until a time, or never send. Reads the contact's current state."""
    practice = message.practice
    contact = message.guardian or message.staff_member
    if contact is None and not kind_of(message.kind).for_external:
        return Decision(SUPPRESS, reason="the contact was deleted")
    address = current_address(message)
    reason = unreachable_reason(practice=practice, contact=contact, channel=message.channel, address=address,
                                kind=message.kind)
    if reason:
        return Decision(SUPPRESS, reason=reason)
    policy = policy_for(practice)
    zone = practice.zone
    local = now.astimezone(zone)
    if message.urgent or (message.channel == Channel.EMAIL and not policy.quiet_hours_for_email):
        return Decision(SEND, address=address)
    opens = window_opens(local, policy, zone)
    if opens > local:
        return Decision(DEFER, until=opens, reason="quiet hours")
    if message.channel == Channel.SMS and not kind_of(message.kind).exempt_from_cap:
        message.to_address = address
        since = local_datetime(local.date() - dt.timedelta(days=6), dt.time(0), zone)
        counted = counted_texts(message, since)
        day = local.date()
        if not _cap_allows(day, counted, policy, zone):
            for ahead in range(1, 9):
                day = local.date() + dt.timedelta(days=ahead)
                if _cap_allows(day, counted, policy, zone):
                    break
            until = window_opens(local_datetime(day, dt.time(0), zone), policy, zone)
            return Decision(DEFER, until=until, reason="per-contact text limit reached")
    return Decision(SEND, address=address)
