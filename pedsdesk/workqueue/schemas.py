"""API shapes of tasks."""

import datetime as dt
from typing import Literal

from django.contrib.contenttypes.models import ContentType
from ninja import Field, Schema

from pedsdesk.fields import Id, SaneDateTime
from pedsdesk.practices.models import Role
from pedsdesk.practices.schemas import InputSchema, Paging, StaffRef
from pedsdesk.workqueue.rules import kind_label


class TaskLinkOut(Schema):
    label: str
    url: str = Field(description="A page of the record in pedsdesk, relative to the site.")


class TaskOut(Schema):
    id: int
    kind: str = Field(description="What sort of task, e.g. plan_of_care_renewal, coverage_ending.")
    kind_label: str
    title: str
    reason: str = Field(description="Why the task exists, in words the assignee understands.")
    status: str = Field(description="open, claimed (in progress), snoozed, done, or cancelled (closed by its rule).")
    business_status: str
    priority: int = Field(description="1 low, 2 normal, 3 high, 4 urgent.")
    priority_label: str
    role: str = Field(description="The queue that holds the task while nobody has claimed it.")
    assignee: StaffRef | None
    due_at: dt.datetime | None
    overdue: bool
    escalated_at: dt.datetime | None
    snoozed_until: dt.datetime | None
    patient_id: int | None
    subject_type: str | None = Field(description="What the task is about, e.g. people.guardian.")
    subject_id: int | None
    links: list[TaskLinkOut]
    rule: str = Field(description="The rule that opened the task and closes it when its condition clears.")
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return kind_label(obj.kind)

    @staticmethod
    def resolve_priority_label(obj) -> str:
        return obj.get_priority_display()

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.is_overdue()

    @staticmethod
    def resolve_subject_type(obj) -> str | None:
        if obj.subject_type_id is None:
            return None
        content_type = ContentType.objects.get_for_id(obj.subject_type_id)  # cached: no query per row
        return f"{content_type.app_label}.{content_type.model}"

    @staticmethod
    def resolve_links(obj) -> list[dict]:
        return [link for link in obj.links or [] if isinstance(link, dict) and "url" in link]


class MyTaskFilters(Paging):
    overdue: bool | None = Field(None, description="Only overdue (true) or not overdue (false) tasks.")
    kind: str = Field("", max_length=60, description="Only tasks of this kind.")
    snoozed: bool = Field(False, description="List your snoozed tasks instead of the open ones.")


class TeamTaskFilters(Paging):
    status: Literal["active", "snoozed", "all_open", "done", "closed"] = Field(
        "active", description="active: open and in progress (default); all_open adds snoozed; done; closed by rule.")
    role: Role | None = Field(None, description="Only this role's queue.")
    assignee_id: Id | None = Field(None, description="Only tasks held by this staff member.")
    unclaimed: bool = Field(False, description="Only tasks nobody holds.")
    kind: str = Field("", max_length=60)
    overdue: bool = False
    escalated: bool = False
    patient_id: Id | None = None


class CompleteIn(InputSchema):
    note: str = Field("", max_length=100, description="What was done, e.g. 'left a voicemail'.")


class SnoozeIn(InputSchema):
    until: SaneDateTime = Field(description="When the task comes back; without an offset it is the practice's local "
                                           "time. Within 90 days.")


class ReassignIn(InputSchema):
    """Exactly one of ``assignee_id`` and ``role``."""

    assignee_id: int | None = Field(None, description="A staff member of your practice: the task becomes theirs.")
    role: Role | None = Field(None, description="Or a role: the task goes back, unclaimed, to that queue.")
