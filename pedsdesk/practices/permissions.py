"""Who may do what: one table, read top to bottom.

Columns are roles; ``x`` grants the permission. Every staff view and API endpoint
names one of these permissions, and the test suite walks every URL with every role
against this table.
"""

from pedsdesk.practices.models import Role

_COLUMNS = [Role.OWNER, Role.OFFICE_MANAGER, Role.FRONT_DESK, Role.THERAPIST, Role.BILLING]

_TABLE = """
#                          owner  office  front  therapist  billing
dashboard.view               x      x       x       x          x
patients.view                x      x       x       x          x
patients.edit                x      x       x       .          .
guardians.edit               x      x       x       .          .
plans_of_care.edit           x      x       .       x          .
coverages.edit               x      x       x       .          x
payers.view                  x      x       x       .          x
payers.edit                  x      x       .       .          x
authorizations.view          x      x       x       x          x
authorizations.edit          x      x       x       .          x
# renewals.documents: tick the checklist (therapists their own reports); renewals.decide: record the payer's decision
renewals.work                x      x       x       .          x
renewals.documents           x      x       x       x          x
renewals.decide              x      x       .       .          x
schools.view                 x      x       x       x          x
schools.edit                 x      x       x       .          .
# schools.consents: draft, upload and revoke family authorizations; schools.work: requests, summaries, meetings
schools.consents             x      x       x       .          .
schools.work                 x      x       x       x          .
schools.send                 x      x       x       x          .
staff.view                   x      x       x       x          x
staff.edit                   x      x       .       .          .
practice.edit                x      .       .       .          .
audit.view                   x      .       .       .          .
family_links.manage          x      x       x       x          .
account.manage               x      x       x       x          x
messages.view                x      x       x       .          .
# tasks.work: one's own tasks and the unclaimed ones of one's role; tasks.assign: anyone's, and the team queue
tasks.view                   x      x       x       x          x
tasks.work                   x      x       x       x          x
tasks.assign                 x      x       .       .          .
schedule.view                x      x       x       x          x
schedule.edit                x      x       x       x          .
closures.edit                x      x       .       .          .
scheduling_policy.edit       x      x       .       .          .
# calendar_feeds.manage: a therapist's own feed; owners and office managers may turn off anyone's
calendar_feeds.manage        x      x       .       x          .
# hep.edit: build and send home programs, edit the practice's activities; hep.follow_up: resend, close questions;
# hep_policy.edit: the practice's follow-up times and low-practice threshold
hep.view                     x      x       x       x          .
hep.edit                     x      x       .       x          .
hep.follow_up                x      x       x       x          .
hep_policy.edit              x      x       .       .          .
admin.use                    x      .       .       .          .
sweeps.view                  x      .       .       .          .
imports.run                  x      x       .       .          .
"""


def _parse(table: str) -> dict[str, frozenset[str]]:
    grants: dict[str, frozenset[str]] = {}
    for line in table.strip().splitlines():
        if line.startswith("#"):
            continue
        name, *marks = line.split()
        if len(marks) != len(_COLUMNS) or set(marks) - {"x", "."}:
            raise ValueError(f"permission table row {name!r} needs one x or . per role")
        grants[name] = frozenset(role.value for role, mark in zip(_COLUMNS, marks, strict=True) if mark == "x")
    return grants


PERMISSIONS = _parse(_TABLE)


def has_permission(user, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.practice_id
        and user.role in PERMISSIONS[permission]
    )
