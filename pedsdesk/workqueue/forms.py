"""Reading what a person asked for: queue filters, a snooze time, whom to hand a task to."""

import datetime as dt

from django import forms

from pedsdesk.practices.models import Practice, Role, StaffMember
from pedsdesk.workqueue.actions import TaskActionError
from pedsdesk.workqueue.queries import STATUS_CHOICES, TeamFilters
from pedsdesk.workqueue.rules import kind_choices

SNOOZE_CHOICES = [
    ("1h", "1 hour"),
    ("4h", "4 hours"),
    ("tomorrow", "Tomorrow 8 AM"),
    ("monday", "Next Monday 8 AM"),
    ("1w", "1 week"),
]


def snooze_until(*, choice: str, custom: str, practice: Practice, now: dt.datetime) -> dt.datetime:
    """A preset ("tomorrow") or a local date and time ("2026-12-03T09:00") as an instant."""
    local = now.astimezone(practice.zone)
    if custom.strip():
        try:
            naive = dt.datetime.fromisoformat(custom.strip())
        except ValueError:
            raise TaskActionError("Enter the snooze time as a date and time, like 2026-12-03 09:00.") from None
        return naive.replace(tzinfo=practice.zone) if naive.tzinfo is None else naive
    morning = dt.time(8, 0)
    if choice == "1h":
        return now + dt.timedelta(hours=1)
    if choice == "4h":
        return now + dt.timedelta(hours=4)
    if choice == "1w":
        return now + dt.timedelta(weeks=1)
    if choice == "tomorrow":
        return dt.datetime.combine(local.date() + dt.timedelta(days=1), morning, tzinfo=practice.zone)
    if choice == "monday":
        days = (7 - local.weekday()) % 7 or 7
        return dt.datetime.combine(local.date() + dt.timedelta(days=days), morning, tzinfo=practice.zone)
    raise TaskActionError("Choose how long to snooze the task for.")


def reassign_target(*, value: str, practice: Practice) -> tuple[StaffMember | None, str]:
    """"staff:12" or "role:front_desk" → (person, role). Someone of another practice is
    never found, so the message is the same as for an unknown id."""
    kind, _, ident = value.partition(":")
    if kind == "role" and ident in Role.values:
        return None, ident
    if kind == "staff" and ident.isdigit():
        member = StaffMember.objects.filter(pk=int(ident), practice=practice).first()
        if member is not None:
            return member, ""
    raise TaskActionError("Choose someone from this practice, or a role, to hand the task to.")


def reassign_choices(staff: list[StaffMember]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        ("Queues", [(f"role:{value}", f"{label} queue") for value, label in Role.choices]),
        ("People", [(f"staff:{m.pk}", f"{m} ({m.get_role_display()})") for m in staff]),
    ]


class TeamFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    role = forms.ChoiceField(label="Queue", choices=[("", "Every queue"), *Role.choices], required=False)
    assignee = forms.TypedChoiceField(label="Person", coerce=int, empty_value=None, required=False)
    kind = forms.ChoiceField(label="Kind", required=False)
    overdue = forms.BooleanField(label="Overdue only", required=False)
    escalated = forms.BooleanField(label="Escalated only", required=False)
    unclaimed = forms.BooleanField(label="Unclaimed only", required=False)

    def __init__(self, *args, staff: list[StaffMember], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "Anyone"), *[(m.pk, str(m)) for m in staff]]
        self.fields["kind"].choices = [("", "Every kind"), *kind_choices()]

    def filters(self) -> TeamFilters:
        if not self.is_valid():
            return TeamFilters()
        data = self.cleaned_data
        return TeamFilters(role=data["role"], assignee=data["assignee"], kind=data["kind"],
                           status=data["status"] or "active", overdue=data["overdue"],
                           escalated=data["escalated"], unclaimed=data["unclaimed"])
