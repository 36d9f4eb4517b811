"""What school coordination says by text and email.

The family's request to sign goes in their language; the emails to school teams are in
English. None of them carries clinical detail: a signed link holds the document, and
an invitation says only the kind of meeting, the child's first name and initial, the
school, the time and the place.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from pedsdesk.local_time import clock, when
from pedsdesk.messaging.kinds import MessageKind, Rendered, RenderInput, email_letter, register_kind

CONSENT_REQUEST = "school_consent_request"
DOCUMENT = "school_document"
MEETING_INVITE = "school_meeting_invite"
MEETING_STAFF = "school_meeting_staff"


def _consent_request(data: RenderInput) -> Rendered:
    url, child = data.context["url"], data.context.get("child_first_name", "")
    if data.channel == "sms":
        text = _("%(practice)s: please review and sign %(child)s's school forms: %(url)s") % {
            "practice": data.practice.name, "child": child, "url": url}
        return Rendered(_("School forms to sign"), text)
    return email_letter(
        data, _("School forms to sign for %(child)s") % {"child": child},
        _("To share information with %(child)s's school team, we need your written permission. You can read "
          "the forms and sign them on your phone:") % {"child": child},
        url,
        _("You decide what is shared and with whom, and you can revoke your permission at any time."))


def _document(data: RenderInput) -> Rendered:
    context = data.context
    return email_letter(
        data, f"A document from {data.practice.name}",
        f"{data.practice.name} has shared a document about {context['child']} with you, with the family's "
        "written authorization. Open it here:",
        context["url"],
        f"The link works until {when(context['expires'])}, and stops at once if the family withdraws "
        "their authorization. Please do not forward it.")


def _meeting(data: RenderInput) -> Rendered:
    context = data.context
    cancelled = context["method"] == "CANCEL"
    where = ", ".join(p for p in (context.get("location"), context.get("video_link")) if p) or "-"
    if cancelled:
        lines = [f"{context['title']} at {context['school']} on {when(context['start_at'])} is "
                 "cancelled. Your calendar will remove it."]
    else:
        lines = [f"{context['title']} at {context['school']}.",
                 f"When: {when(context['start_at'])}, until {clock(context['end_at'])}",
                 f"Where: {where}",
                 "The invitation is attached; accepting it adds the meeting to your calendar, and later "
                 "changes update it."]
    subject = f"{'Cancelled' if cancelled else 'Invitation'}: {context['title']}"
    return email_letter(data, subject, *lines)


register_kind(MessageKind(CONSENT_REQUEST, _consent_request, label="School forms for the family to sign"))
register_kind(MessageKind(DOCUMENT, _document, for_external=True, label="Document link to a school contact"))
register_kind(MessageKind(MEETING_INVITE, _meeting, for_external=True, label="School meeting invitation"))
register_kind(MessageKind(MEETING_STAFF, _meeting, for_staff=True, label="School meeting invitation (therapist)"))
