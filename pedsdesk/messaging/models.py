"""The outbox and everything around it.

A message is a row written in the same transaction as the change that caused it;
workers claim due rows with a conditional update and record every provider call as
a delivery attempt. Inbound texts, provider status callbacks, opt-outs and failing
channels live here too.
"""

import datetime as dt
import re

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone

from pedsdesk.fields import FieldRules
from pedsdesk.people.models import Guardian
from pedsdesk.practices.memo import PracticeMemo
from pedsdesk.practices.models import Practice, StaffMember

# /f/<token>/ and /calendar/visit/<token>.ics
_LINK_TOKEN = re.compile(r"(/f/|/calendar/visit/)[^/\s]+")


class Channel(models.TextChoices):
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"


class MessageState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Withdrawn"
    SUPPRESSED = "suppressed", "Not sent (opted out or failing channel)"
    SKIPPED = "skipped", "Not queued (no way to reach the contact)"


#: States in which a message may still go out.
PENDING_STATES = (MessageState.QUEUED, MessageState.SENDING)
#: States in which the provider has (or may have) the message.
HANDED_OVER_STATES = (MessageState.SENDING, MessageState.SENT, MessageState.DELIVERED)


class MessagingPolicy(FieldRules, models.Model):
    """A practice's rules for texting families (one row per practice, created on demand)."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="messaging_policy")
    quiet_start = models.TimeField(default=dt.time(20, 0), help_text="No texts from this local time …")
    quiet_end = models.TimeField(default=dt.time(8, 0), help_text="… until this local time.")
    sms_per_day = models.PositiveSmallIntegerField(default=1, help_text="Non-urgent texts per contact per day.")
    sms_per_week = models.PositiveSmallIntegerField(default=3,
                                                    help_text="Non-urgent texts per contact in 7 days.")
    sms_from_number = models.CharField(max_length=20, blank=True,
                                       help_text="This practice's own Twilio number (blank: the site's).")
    quiet_hours_for_email = models.BooleanField(default=False,
                                                help_text="Hold emails during quiet hours too.")

    class Meta:
        verbose_name_plural = "messaging policies"

    def __str__(self) -> str:
        return f"Messaging policy of {self.practice}"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        policies.forget(self.practice_id)

    @classmethod
    def for_practice_id(cls, practice_id: int) -> "MessagingPolicy":
        """The practice's policy, read at most once a minute per process."""
        return policies.get(practice_id)


def _load_policy(practice_id: int) -> MessagingPolicy:
    return MessagingPolicy.objects.get_or_create(practice_id=practice_id)[0]


policies: PracticeMemo[MessagingPolicy] = PracticeMemo(_load_policy)


class Message(FieldRules, models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="messages")
    guardian = models.ForeignKey(Guardian, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="messages")
    staff_member = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="messages")
    to_address = models.CharField(max_length=254)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    kind = models.CharField(max_length=60, db_index=True)
    language = models.CharField(max_length=2, default="en")
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    # sha256 of the idempotency key: the Message-ID and the Twilio status-callback tag.
    reference = models.CharField(max_length=32, blank=True, db_index=True)
    not_before = models.DateTimeField(default=timezone.now)
    urgent = models.BooleanField(default=False, help_text="Ignores quiet hours and the per-contact cap.")
    state = models.CharField(max_length=10, choices=MessageState.choices, default=MessageState.QUEUED)
    status_reason = models.CharField(max_length=200, blank=True,
                                     help_text="Why it was withdrawn, held, skipped or failed (no clinical detail).")
    # What the message is about (an appointment, a home program …), so a workflow can
    # withdraw every pending message about one record.
    about_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    about_id = models.BigIntegerField(null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    # The claim: a worker owns a SENDING row while its lease lasts.
    lease_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    counted_at = models.DateTimeField(null=True, blank=True,
                                      help_text="When it was handed to a worker; counts toward the cap.")
    provider_id = models.CharField(max_length=200, blank=True, db_index=True)
    provider_status = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["state", "lease_expires_at"]),
            models.Index(fields=["about_type", "about_id", "state"]),
            models.Index(fields=["about_type", "updated_at"]),  # what changed about X since a sweep's last run
            models.Index(fields=["to_address", "counted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_label} by {self.get_channel_display().lower()}"

    @property
    def recipient_label(self) -> str:
        if self.guardian_id:
            return f"guardian #{self.guardian_id}"
        if self.staff_member_id:
            return f"staff #{self.staff_member_id}"
        return "outside contact"

    @property
    def kind_title(self) -> str:
        from pedsdesk.messaging.kinds import kind_title

        return kind_title(self.kind)

    @property
    def text_shown_to_staff(self) -> str:
        """The text as sent, with the tokens of family links and calendar files left out:
        those links are the family's credentials, not the front desk's."""
        return _LINK_TOKEN.sub(r"\1…", self.body)

    @property
    def counts_toward_cap(self) -> bool:
        from pedsdesk.messaging.kinds import kind_of

        return self.channel == Channel.SMS and not self.urgent and not kind_of(self.kind).exempt_from_cap


class MessageAttachment(FieldRules, models.Model):
    """A file an email carries, written in the message's own transaction (so a message
    and its parts commit, or roll back, together). ``alternative`` parts (a calendar
    invitation) go beside the text body in multipart/alternative; the others are
    attached files."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=120)
    content_type = models.CharField(max_length=120, help_text="e.g. text/calendar; method=REQUEST")
    content = models.BinaryField()
    alternative = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["message", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.filename} of message #{self.message_id}"


class AttemptOutcome(models.TextChoices):
    STARTED = "started", "Started (no answer recorded)"
    SENT = "sent", "Accepted by the provider"
    RETRY = "retry", "Temporary failure, will retry"
    FAILED = "failed", "Permanent failure"
    FOUND = "found", "Worker died; the provider had it"
    RESENT = "resent", "Worker died; sending again"
    WITHDRAWN = "withdrawn", "Withdrawn before sending"


class DeliveryAttempt(FieldRules, models.Model):
    """One try to hand a message to a provider."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveIntegerField()
    lease_token = models.CharField(max_length=32)
    transport = models.CharField(max_length=20)
    worker = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    response = models.TextField(blank=True)
    error = models.TextField(blank=True)
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices, default=AttemptOutcome.STARTED)

    class Meta:
        ordering = ["message", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of message #{self.message_id}: {self.outcome}"


class ChannelFailure(FieldRules, models.Model):
    """A contact's address that the provider refused for good. Nothing is sent to it
    until staff clear the mark (after fixing the number or address)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="channel_failures")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="channel_failures")
    staff_member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="channel_failures")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    address = models.CharField(max_length=254)
    reason = models.CharField(max_length=300)
    error_code = models.CharField(max_length=30, blank=True)
    failing_since = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "channel", "address"], condition=Q(cleared_at__isnull=True),
                                    name="one_open_failure_per_address"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.address} failing since {self.failing_since:%Y-%m-%d}"


class PhoneOptOut(FieldRules, models.Model):
    """A number that texted STOP to a practice. Checked at send time together with
    Guardian.sms_opted_out_at, so a second guardian record with the same number, or one
    added later, is not texted either."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="phone_opt_outs")
    phone = models.CharField(max_length=20)
    opted_out_at = models.DateTimeField(default=timezone.now)
    keyword = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "phone"], name="one_opt_out_per_number")]

    def __str__(self) -> str:
        return f"{self.phone} opted out"


class InboundMessage(FieldRules, models.Model):
    """A text a family sent us, kept once per provider id (Twilio's MessageSid)."""

    provider_id = models.CharField(max_length=64, unique=True)
    practice = models.ForeignKey(Practice, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="inbound_messages")
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    keyword = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    guardians = models.ManyToManyField(Guardian, blank=True, related_name="inbound_messages")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"text from {self.from_number} at {self.received_at:%Y-%m-%d %H:%M}"


class ProviderEvent(FieldRules, models.Model):
    """One status callback; the unique pair makes a repeated callback a no-op."""

    provider_id = models.CharField(max_length=64)
    status = models.CharField(max_length=30)
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    error_code = models.CharField(max_length=30, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider_id", "status"], name="one_event_per_status")]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.status}"


class ReplyWait(FieldRules, models.Model):
    """A workflow waiting for a guardian's reply about a record until ``until``."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="reply_waits")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="reply_waits")
    handler = models.CharField(max_length=60)
    about_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    about_id = models.BigIntegerField(null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    until = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(InboundMessage, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["guardian", "resolved_at", "until"])]

    def __str__(self) -> str:
        return f"{self.handler} waiting on guardian #{self.guardian_id} until {self.until:%Y-%m-%d %H:%M}"
