"""What families are told about home programs, in English and Spanish, by text and email.

No activity name, diagnosis, goal or discipline in any of them: the practice's name,
the child's first name and the family link, which holds the program. Context keys:
``child_first_name``, ``url``; every key may be missing.
"""

from django.utils.translation import gettext as _

from pedsdesk.messaging.kinds import MessageKind, Rendered, RenderInput, email_letter, register_kind

PROGRAM = "hep_program"
OPEN_REMINDER = "hep_program_reminder"
FEEDBACK_REQUEST = "hep_feedback_request"
NUDGE = "hep_nudge"
KINDS = (PROGRAM, OPEN_REMINDER, FEEDBACK_REQUEST, NUDGE)


def _parts(data: RenderInput) -> dict:
    return {"practice": data.practice.name, "child": data.context.get("child_first_name") or _("your child"),
            "url": data.context.get("url") or "", "phone": data.practice_phone or _("the office")}


def _program(data: RenderInput) -> Rendered:
    p = _parts(data)
    if data.channel == "sms":
        return Rendered(_("Home practice"), _("%(practice)s: %(child)s's home practice page is ready: %(url)s") % p)
    return email_letter(data, _("%(child)s's home practice from %(practice)s") % p,
                  _("Here is what to practise at home with %(child)s this week. Open it on your phone or print "
                    "it:") % p, p["url"],
                  _("The link is for you alone; please do not forward it."))


def _open_reminder(data: RenderInput) -> Rendered:
    p = _parts(data)
    if data.channel == "sms":
        return Rendered(_("Home practice"),
                        _("%(practice)s: a reminder that %(child)s's home practice page is waiting: %(url)s") % p)
    return email_letter(data, _("A reminder: %(child)s's home practice") % p,
                  _("%(child)s's home practice page is waiting for you:") % p, p["url"],
                  _("The link is for you alone; please do not forward it."))


def _feedback_request(data: RenderInput) -> Rendered:
    p = _parts(data)
    if data.channel == "sms":
        return Rendered(_("Home practice"),
                        _("%(practice)s: how did home practice go with %(child)s? Tell us in one minute: %(url)s")
                        % p)
    return email_letter(data, _("How did home practice go with %(child)s?") % p,
                  _("Before the next visit, please tell us how many days you practised and how each activity went. "
                    "It takes a minute:") % p, p["url"])


def _nudge(data: RenderInput) -> Rendered:
    p = _parts(data)
    if data.channel == "sms":
        return Rendered(_("Home practice"),
                        _("%(practice)s: any questions about %(child)s's home practice? Tell us here: %(url)s") % p)
    return email_letter(data, _("Questions about %(child)s's home practice?") % p,
                  _("If something is hard or unclear, tell us on %(child)s's page and we will help:") % p, p["url"])


def visit_reminder_sms() -> str:
    """Added to a visit reminder text that carries the feedback request."""
    return _("Also tell us there how home practice went.")


def visit_reminder_email() -> str:
    return _("On the same page, please tell us how home practice went since the last visit.")


register_kind(MessageKind(PROGRAM, _program, label="Home program sent"))
register_kind(MessageKind(OPEN_REMINDER, _open_reminder, label="Home program not opened yet"))
register_kind(MessageKind(FEEDBACK_REQUEST, _feedback_request, label="How home practice went"))
register_kind(MessageKind(NUDGE, _nudge, label="Questions about home practice"))
