"""Reads of patient data audited structurally: whatever a staff page loads is recorded.

While a staff request runs, every row loaded from the database whose model names a patient
(``Patient`` itself, or a model with a ``patient`` foreign key) and every guardian is noted
(Django's ``post_init`` signal, no extra query). When the response is ready, one ``view``
event records the patients and guardians the request read that no event of its own already
covered. A view that forgets to audit is therefore still audited; one that audits in detail
(``record_event``) is not recorded twice.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models.signals import post_init

_current: ContextVar[_Reads | None] = ContextVar("pedsdesk_audit_reads", default=None)
# Requests audited elsewhere: the API audits each endpoint, family links audit their opening,
# provider webhooks and static files show no patient data to a person.
EXEMPT_PREFIXES = ("/api/", "/f/", "/static/", "/messaging/twilio/", "/healthz", "/metrics")


@dataclass
class _Reads:
    patients: set[int] = field(default_factory=set)
    guardians: set[int] = field(default_factory=set)
    covered_patients: set[int] = field(default_factory=set)
    covered_guardians: set[int] = field(default_factory=set)


@functools.cache
def _patient_attname(model: type) -> str | None:
    """The attribute holding the patient's id on ``model`` (its foreign key's column), if any."""
    if model._meta.app_label == "audit":
        return None  # reading the audit log is not reading a chart
    try:
        fk = model._meta.get_field("patient")
    except FieldDoesNotExist:
        return None
    if fk.many_to_one and fk.related_model._meta.label_lower == "people.patient":
        return fk.attname
    return None


def _patient_of(sender: type, instance: Any) -> int | None:
    if sender._meta.label_lower == "people.patient":
        return instance.pk
    attname = _patient_attname(sender)
    return instance.__dict__.get(attname) if attname else None  # no query: the column is loaded


def _noted(sender: type, instance: Any, **kwargs: Any) -> None:
    reads = _current.get()
    if reads is None or instance.pk is None:
        return
    if sender._meta.label_lower == "people.guardian":
        reads.guardians.add(instance.pk)
        return
    patient_id = _patient_of(sender, instance)
    if patient_id is not None:
        reads.patients.add(patient_id)


def note_reads() -> None:
    """Listen to the models that name a patient, and to guardians (from the app's ready()).
    Per model: Django caches that other models have no receiver, so loading staff,
    authorizations or series rows costs no call (about 40,000 calls a practice's sweep)."""
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.label_lower in ("people.patient", "people.guardian") or _patient_attname(model):
            post_init.connect(_noted, sender=model, dispatch_uid=f"pedsdesk.audit.reads:{model._meta.label_lower}")


def covered(*, obj: Any = None, patient_id: int | None = None, detail: dict | None = None) -> None:
    """Called by ``record_event``: these patients (and this guardian) are audited already."""
    reads = _current.get()
    if reads is None:
        return
    if patient_id is not None:
        reads.covered_patients.add(patient_id)
    if obj is not None and obj._meta.label_lower == "people.guardian":
        reads.covered_guardians.add(obj.pk)
    for key, into in (("patient_ids", reads.covered_patients), ("guardian_ids", reads.covered_guardians)):
        ids = (detail or {}).get(key)
        if isinstance(ids, list | tuple | set):
            into.update(i for i in ids if isinstance(i, int))


class AuditReadsMiddleware:
    """One audit event per staff request for the patient data it read and did not audit itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(EXEMPT_PREFIXES):
            return self.get_response(request)
        reads = _Reads()
        token = _current.set(reads)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        user = getattr(request, "user", None)
        patients = sorted(reads.patients - reads.covered_patients)
        guardians = sorted(reads.guardians - reads.covered_guardians)
        # A redirect shows nothing; a page, a fragment or a form sent back with errors does.
        shown = response.status_code < 300 or 400 <= response.status_code < 500
        match = getattr(request, "resolver_match", None)
        if match is not None and match.func.__module__.startswith("pedsdesk.audit."):
            shown = False  # the audit log names children only to label its own events
        if (patients or guardians) and shown and user is not None and user.is_authenticated:
            from pedsdesk.audit.actions import record_event

            record_event(
                actor=user, action="view", object_type="page", object_id=(match.view_name if match else "")[:64],
                patient_id=patients[0] if len(patients) == 1 else None, request=request,
                detail={"path": request.path[:200], "method": request.method, "patient_ids": patients,
                        "guardian_ids": guardians, "via": "page"},
            )
        return response
