"""Audit events in words for the owner's page: who by name, what they did as a phrase
("Opened appointment #403", "Listed tasks"), which child by name. The log itself keeps
its codes; only the page translates them."""

from __future__ import annotations

from django.apps import apps

from pedsdesk.audit.models import AuditEvent

VERBS = {
    "view": "Opened", "list": "Listed", "create": "Created", "update": "Changed", "delete": "Deleted",
    "export": "Exported", "import": "Imported", "login": "Signed in", "login_failed": "Sign-in failed",
    "logout": "Signed out",
}


def action_label(action: str) -> str:
    return VERBS.get(action) or action.replace("_", " ").capitalize()


def _model_names(object_type: str) -> tuple[str, str]:
    try:
        meta = apps.get_model(object_type)._meta
    except (LookupError, ValueError):
        return object_type, object_type
    return str(meta.verbose_name), str(meta.verbose_name_plural)


def what(event: AuditEvent) -> str:
    """'Listed tasks', 'Opened appointment #403', 'Family link opened: family link #12'."""
    if not event.object_type:
        return action_label(event.action)
    one, many = _model_names(event.object_type)
    if event.action in VERBS:
        thing = f"{one} #{event.object_id}" if event.object_id else many
        return f"{VERBS[event.action]} {thing}"
    return f"{action_label(event.action)}: {one}" + (f" #{event.object_id}" if event.object_id else "")


def describe(events: list[AuditEvent], *, practice_id: int) -> list[dict]:
    """The page's rows; two queries (staff names, patient names) whatever the page size."""
    from pedsdesk.people.models import Patient
    from pedsdesk.practices.models import StaffMember

    staff = {m.pk: m for m in StaffMember.objects.filter(
        practice_id=practice_id, pk__in={e.actor_id for e in events if e.actor_id})}
    patients = {p.pk: p for p in Patient.objects.filter(
        practice_id=practice_id, pk__in={e.patient_id for e in events if e.patient_id})}
    rows = []
    for event in events:
        member = staff.get(event.actor_id)
        patient = patients.get(event.patient_id)
        rows.append({
            "event": event,
            "who": f"{member.get_full_name() or member.username} ({member.get_role_display()})" if member
            else event.actor_label,
            "what": what(event),
            "patient": patient,
            "patient_name": f"{patient.first_name} {patient.last_name}" if patient else "",
        })
    return rows
