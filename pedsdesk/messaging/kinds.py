"""Message kinds: what each says, in English and Spanish, by email and by text.

Texts never carry clinical detail (diagnoses, goals, the therapist's discipline); a
signed family link carries it. Later issues register their own kinds with
``register_kind``; the rules read the exemptions here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pedsdesk import local_time
from pedsdesk.people.phones import display_phone


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@dataclass(frozen=True)
class RenderInput:
    practice: Any
    recipient: Any
    channel: str
    language: str
    context: dict

    @property
    def practice_phone(self) -> str:
        return display_phone(self.practice.phone) if self.practice.phone else ""


@dataclass(frozen=True)
class MessageKind:
    name: str
    render: Callable[[RenderInput], Rendered]
    #: texts that answer the family (HELP, STOP, START) do not use up the daily cap
    exempt_from_cap: bool = False
    #: only the one confirmation of an opt-out may go to an opted-out number
    exempt_from_opt_out: bool = False
    #: the kind is for staff members (and email only)
    for_staff: bool = False
    #: the kind goes by email to someone outside the practice (a school contact): any
    #: object with ``email``, ``first_name`` and ``practice_id``; the message keeps only
    #: the address, and a pre-send check (``delivery.PRE_SEND_CHECKS``) vouches for it
    for_external: bool = False
    #: what staff call it on the Messages page ("Offer of an opening"); default from the name
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


_KINDS: dict[str, MessageKind] = {}


def register_kind(kind: MessageKind) -> MessageKind:
    _KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> MessageKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ValueError(f"unknown message kind {name!r}; register it in pedsdesk.messaging.kinds") from None


def kind_title(name: str) -> str:
    """The kind in words for staff pages; an unregistered (retired) kind by its name."""
    spec = _KINDS.get(name)
    return spec.title if spec else name.replace("_", " ").capitalize()


def registered_kinds() -> list[str]:
    return sorted(_KINDS)


def render(*, kind: str, practice, recipient, channel: str, language: str, context: dict) -> Rendered:
    """Render ``kind`` now, in ``language`` (the recipient's), for ``channel``, with the
    practice's zone active: format times with pedsdesk.local_time, never strftime."""
    spec = kind_of(kind)
    # Times in a message are on the practice's clock, whatever the sender's zone.
    with translation.override(language), timezone.override(practice.zone):
        rendered = spec.render(RenderInput(practice, recipient, channel, language, context))
    body = rendered.body.strip() + "\n" if channel == "email" else " ".join(rendered.body.split())
    return Rendered(subject=" ".join(rendered.subject.split())[:300], body=body)


def _sign_off(data: RenderInput) -> str:
    if data.practice_phone:
        return _("%(practice)s · %(phone)s") % {"practice": data.practice.name, "phone": data.practice_phone}
    return data.practice.name


def email_letter(data: RenderInput, subject: str, *paragraphs: str) -> Rendered:
    """An email as a letter: the recipient greeted by name, the paragraphs that are not
    empty, the practice's name and phone. Every kind's email is written through it."""
    greeting = _("Hello %(name)s,") % {"name": data.recipient.first_name}
    body = "\n\n".join([greeting, *[p for p in paragraphs if p], _sign_off(data)])
    return Rendered(subject, body)


def _help_reply(data: RenderInput) -> Rendered:
    text = _("%(practice)s: for help call %(phone)s. Reply STOP to stop texts.") % {
        "practice": data.practice.name, "phone": data.practice_phone or _("the office")}
    return Rendered(_("Help from %(practice)s") % {"practice": data.practice.name}, text)


def _opt_out(data: RenderInput) -> Rendered:
    text = _("%(practice)s: you will get no more texts from us. Reply START to get them again.") % {
        "practice": data.practice.name}
    return Rendered(_("Texts turned off"), text)


def _opt_in(data: RenderInput) -> Rendered:
    text = _("%(practice)s: texts are on again. Reply HELP for help, STOP to stop.") % {
        "practice": data.practice.name}
    return Rendered(_("Texts turned on"), text)


def _contact_test(data: RenderInput) -> Rendered:
    if data.channel == "sms":
        text = _("%(practice)s: this is a test message to check we can reach you. No reply is needed.") % {
            "practice": data.practice.name}
        return Rendered(_("Test message"), text)
    return email_letter(data, _("A test message from %(practice)s") % {"practice": data.practice.name},
                  _("This is a test message to check that we can reach you by email. No reply is needed."))


def _notice(data: RenderInput) -> Rendered:
    if data.channel == "sms":
        text = _("%(practice)s has a message for you. Please call us at %(phone)s.") % {
            "practice": data.practice.name, "phone": data.practice_phone or _("the office")}
        return Rendered(_("A message from %(practice)s") % {"practice": data.practice.name}, text)
    return email_letter(data, _("A message from %(practice)s") % {"practice": data.practice.name},
                  _("We have a message for you. Please call us at %(phone)s.") % {
                      "phone": data.practice_phone or _("the office")})


def _portal_link(data: RenderInput) -> Rendered:
    url = data.context["url"]
    if data.channel == "sms":
        text = _("%(practice)s: your child's page is ready: %(url)s") % {"practice": data.practice.name, "url": url}
        return Rendered(_("Your child's page is ready"), text)
    child = data.context.get("child_first_name") or ""
    subject = (_("%(child)s's page is ready") % {"child": child}) if child else _("Your child's page is ready")
    return email_letter(data, subject,
                  _("Your child's page from %(practice)s is ready. Open it on your phone or computer:") % {
                      "practice": data.practice.name},
                  url,
                  _("The link is for you alone; please do not forward it."))


def _when(value) -> str:
    if isinstance(value, dt.datetime):
        return local_time.when(value)
    if isinstance(value, dt.date):
        return local_time.day(value)
    return str(value or "")


def _daily_digest(data: RenderInput) -> Rendered:
    """Staff digest: ``tasks`` is a list of dicts (title, due, priority, url, escalated;
    optionally overdue); optional ``date``, ``more`` (tasks not listed) and ``queue_url``."""
    tasks = [
        {"title": str(t.get("title", "")), "due": _when(t.get("due")), "priority": t.get("priority", ""),
         "url": t.get("url", ""), "escalated": bool(t.get("escalated")), "overdue": bool(t.get("overdue"))}
        for t in data.context.get("tasks", [])
    ]
    today = data.context.get("date") or data.practice.local_now().date()
    escalated = sum(t["escalated"] for t in tasks)
    total = len(tasks) + int(data.context.get("more") or 0)
    subject = f"{data.practice.name}: {total} open task{'s' if total != 1 else ''}"
    if escalated:
        subject += f", {escalated} escalated"
    body = render_to_string("messaging/daily_digest.txt", {
        "recipient": data.recipient, "practice": data.practice, "tasks": tasks, "date": _when(today),
        "escalated": escalated, "more": int(data.context.get("more") or 0),
        "queue_url": data.context.get("queue_url", ""),
        "base_url": settings.PEDSDESK_BASE_URL.rstrip("/"),
    })
    return Rendered(subject, body)


#: The kinds this app defines; other apps register theirs with register_kind.
BUILTIN_KINDS = ("help_reply", "opt_out_confirmation", "opt_in_confirmation", "contact_test", "notice", "portal_link",
                 "daily_digest")
register_kind(MessageKind("help_reply", _help_reply, label="Answer to HELP", exempt_from_cap=True))
register_kind(MessageKind("opt_out_confirmation", _opt_out, label="Texts turned off (STOP)", exempt_from_cap=True,
                          exempt_from_opt_out=True))
register_kind(MessageKind("opt_in_confirmation", _opt_in, label="Texts turned on again (START)", exempt_from_cap=True))
register_kind(MessageKind("contact_test", _contact_test, label="Test message"))
register_kind(MessageKind("notice", _notice, label="Please call us"))
register_kind(MessageKind("portal_link", _portal_link, label="Link to the family page"))
register_kind(MessageKind("daily_digest", _daily_digest, for_staff=True, label="Daily digest"))
