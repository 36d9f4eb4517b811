"""The audit log's sweeps: an hourly checkpoint file, and each practice's owners
emailed their chain's head once a day (a copy no database writer can reach)."""

import datetime as dt
import json

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from pedsdesk import local_time
from pedsdesk.audit.checkpoints import checkpoint_document, write_checkpoint
from pedsdesk.audit.models import NO_PRACTICE_CHAIN, AuditChainHead
from pedsdesk.messaging.kinds import MessageKind, Rendered, RenderInput, email_letter, register_kind
from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.sweeps import sweep

CHECKPOINT_KIND = "audit_checkpoint"


def _checkpoint_email(data: RenderInput) -> Rendered:
    document = data.context["checkpoint"]
    head = document["chains"][0]
    subject = _("Audit checkpoint for %(practice)s: entry #%(seq)s") % {"practice": data.practice.name,
                                                                         "seq": head["seq"]}
    return email_letter(
        data, subject,
        _("On %(when)s your practice's audit log held %(seq)s entries.") % {
            "when": local_time.when(dt.datetime.fromisoformat(document["written_at"])), "seq": head["seq"]},
        _("This is today's signed checkpoint of your practice's audit log. Keep this email: whoever runs "
          "pedsdesk can prove with it that no entry written before it was removed or rewritten later "
          "(save the text between the lines as a file and run: pedsdesk audit verify --practice %(practice_id)s "
          "--checkpoint FILE).") % {"practice_id": data.practice.pk},
        "-----\n" + json.dumps(document, indent=1, sort_keys=True) + "\n-----")


register_kind(MessageKind(CHECKPOINT_KIND, _checkpoint_email, exempt_from_cap=True, for_staff=True,
                          label="Audit checkpoint"))


@sweep("audit.checkpoint_file", "hourly")
def checkpoint_file() -> str:
    return str(write_checkpoint())


@sweep("audit.checkpoint_email", "hourly")
def checkpoint_email() -> int:
    """One email a day, from ``PEDSDESK_AUDIT_EMAIL_HOUR`` local time, to every owner with
    an address, for each practice with a chain (None: no emails)."""
    from pedsdesk.messaging.actions import queue_message  # the outbox sits above the audit log

    hour = settings.PEDSDESK_AUDIT_EMAIL_HOUR
    if hour is None:
        return 0
    now = timezone.now()
    chains = AuditChainHead.objects.exclude(chain=NO_PRACTICE_CHAIN).filter(seq__gt=0).values_list("chain", flat=True)
    queued = 0
    for practice in Practice.objects.filter(pk__in=list(chains)).order_by("pk"):
        local = now.astimezone(practice.zone)
        if local.hour < hour:
            continue
        document = checkpoint_document(chain=practice.pk, now=now)
        day = local.date().isoformat()
        owners = StaffMember.objects.filter(practice=practice, role=Role.OWNER, is_active=True).exclude(email="")
        for owner in owners.order_by("pk"):
            message = queue_message(practice=practice, kind=CHECKPOINT_KIND, recipient=owner, channel="email",
                                    context={"checkpoint": document},
                                    idempotency_key=f"audit-checkpoint:{practice.pk}:{owner.pk}:{day}")
            queued += message is not None and message.created_at >= now  # not a repeat of today's
    return queued
