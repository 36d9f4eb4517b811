"""Stored projection figures (AuthorizationFigures), kept equal to a fresh projection.

Whatever changes what a child's authorizations project to (a visit booked, moved,
cancelled or attended; a series, skip or plan of care; an authorization, its lines or
coverage; a closure or payer) marks the child; when the transaction commits, the
marked children are projected again, once each, however many rows changed. Writes
that bypass ``save()`` (queryset updates, bulk inserts) call ``figures_stale`` or
``refresh_practice`` themselves. A worker does the projecting (``refresh_figures_later``),
so no booking waits for it; the board is a moment behind a change at most.
"""

import threading
from collections.abc import Iterable

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from pedsdesk.authorizations.models import Authorization, AuthorizationFigures, Coverage, Payer, ServiceLine
from pedsdesk.authorizations.queries import PROJECTIONS, SUMMARIES, project_authorizations
from pedsdesk.people.models import Patient, PlanOfCare, PlanOfCareService
from pedsdesk.practices.models import Practice
from pedsdesk.scheduling.models import Appointment, Closure, Series, SeriesSkip
from pedsdesk.sweeps import forget

# Children per projection: bounds the IN lists (SQLite's variable limit) and the memory.
CHUNK = 500

_pending = threading.local()


def _marks() -> dict[str, set[int]]:
    if getattr(_pending, "marks", None) is None:
        _pending.marks = {"patient": set(), "plan": set(), "coverage": set(), "authorization": set(),
                          "practice": set()}
    return _pending.marks


def figures_stale(*, patients: Iterable[int] = (), plans: Iterable[int] = (), coverages: Iterable[int] = (),
                  authorizations: Iterable[int] = (), practices: Iterable[int] = ()) -> None:
    """Project these children again after the commit (at once outside a transaction)."""
    forget(PROJECTIONS)  # a sweep's next step projects afresh
    forget(SUMMARIES)
    marks = _marks()
    for kind, ids in (("patient", patients), ("plan", plans), ("coverage", coverages),
                      ("authorization", authorizations), ("practice", practices)):
        marks[kind].update(i for i in ids if i is not None)
    # Every mark registers a flush; the first to run takes them all, the rest find none.
    # (A rolled-back transaction drops its flush; its marks wait for the next one, harmless.)
    transaction.on_commit(_flush, robust=True)


def forget_pending() -> None:
    """Drop this thread's marks: a seeding that just refreshed its whole practice queues
    no second refresh for the workers."""
    _pending.marks = None


def _flush() -> None:
    marks = _marks()
    if not any(marks.values()):
        return
    _pending.marks = None
    # A worker projects them: the booking, the cancellation and its offers, and a sweep's
    # run of bookings never wait for it (tests run it inline: huey is immediate there).
    from pedsdesk.authorizations.tasks import refresh_figures_later

    refresh_figures_later({kind: sorted(ids) for kind, ids in marks.items() if ids})


def apply_marks(marks: dict[str, list[int]]) -> None:
    """Project again the children the marks point to (by child, plan, coverage,
    authorization or whole practice)."""
    marks = {kind: set(marks.get(kind, ())) for kind in ("patient", "plan", "coverage", "authorization", "practice")}
    patients = set(marks["patient"])
    if marks["plan"]:
        patients |= set(PlanOfCare.objects.filter(pk__in=marks["plan"]).values_list("patient_id", flat=True))
    if marks["coverage"]:
        patients |= set(Coverage.objects.filter(pk__in=marks["coverage"]).values_list("patient_id", flat=True))
    if marks["authorization"]:
        patients |= set(Authorization.objects.filter(pk__in=marks["authorization"]).values_list(
            "coverage__patient_id", flat=True))
    for practice in Practice.objects.filter(pk__in=marks["practice"]):
        refresh_practice(practice)
    by_practice: dict[int, list[int]] = {}
    for pk, practice_id in Patient.objects.filter(pk__in=patients).exclude(
            practice_id__in=marks["practice"]).values_list("pk", "practice_id"):
        by_practice.setdefault(practice_id, []).append(pk)
    for practice in Practice.objects.filter(pk__in=by_practice):
        refresh_figures(practice, by_practice[practice.pk])


def refresh_figures(practice: Practice, patient_ids: Iterable[int]) -> int:
    """Project the children's authorizations again and store the figures. Returns rows written."""
    ids = sorted(set(patient_ids))
    written = 0
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        with transaction.atomic():
            # The children locked before their schedule is read: two refreshes of one child
            # (two workers, two changes) write in the order they read, the later state last.
            list(Patient.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk"))
            written += _write(practice, chunk)
    return written


def _write(practice: Practice, chunk: list[int]) -> int:
    scope = list(Authorization.objects.filter(coverage__patient_id__in=chunk, coverage__patient__practice=practice))
    projections = project_authorizations(practice, scope) if scope else {}
    authorized: dict[int, int] = {}
    for authorization_id, quantity in ServiceLine.objects.filter(
            authorization__coverage__patient_id__in=chunk).values_list("authorization_id", "quantity"):
        authorized[authorization_id] = authorized.get(authorization_id, 0) + quantity
    rows = []
    for a in scope:
        p = projections.get(a.pk)
        if p is None:
            total = authorized.get(a.pk, 0)
            rows.append(AuthorizationFigures(authorization=a, authorized=total, remaining=total))
        else:
            rows.append(AuthorizationFigures(
                authorization=a, projected=True, authorized=p.authorized, used=p.used, scheduled=p.scheduled,
                remaining=p.remaining, exhausted_on=p.exhausted_on, runs_out=p.runs_out_before_end,
                denials=len(p.denials)))
    AuthorizationFigures.objects.filter(authorization__coverage__patient_id__in=chunk).delete()
    AuthorizationFigures.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def refresh_practice(practice: Practice) -> int:
    """Every authorization of the practice (after a seeding, an import, a migration)."""
    forget(PROJECTIONS)
    forget(SUMMARIES)
    _marks()["practice"].discard(practice.pk)  # its closures' pending refresh is this one
    ids = Coverage.objects.filter(patient__practice=practice, authorizations__isnull=False).values_list(
        "patient_id", flat=True).distinct()
    return refresh_figures(practice, ids)


def fill_missing(practice: Practice) -> int:
    """Figures for the practice's authorizations that have none yet (written in bulk, or
    before the figures existed)."""
    missing = Authorization.objects.filter(coverage__patient__practice=practice, figures__isnull=True)
    ids = set(missing.values_list("coverage__patient_id", flat=True))
    return refresh_figures(practice, ids) if ids else 0


# What marks a child, by model: (signal sender, the mark it makes).
def _on_appointment(instance: Appointment, **kwargs) -> None:
    if instance.patient_id is not None:
        figures_stale(patients=[instance.patient_id])


def _on_plan_child(instance, **kwargs) -> None:
    figures_stale(plans=[instance.plan_of_care_id])


def _on_skip(instance: SeriesSkip, **kwargs) -> None:
    if SeriesSkip.series.is_cached(instance):  # a batch's skips hold their series: no query each
        figures_stale(plans=[instance.series.plan_of_care_id])
    else:
        figures_stale(plans=Series.objects.filter(pk=instance.series_id).values_list("plan_of_care_id", flat=True))


def _on_plan(instance: PlanOfCare, **kwargs) -> None:
    figures_stale(patients=[instance.patient_id])


def _on_coverage(instance: Coverage, **kwargs) -> None:
    figures_stale(patients=[instance.patient_id])


def _on_authorization(instance: Authorization, **kwargs) -> None:
    figures_stale(coverages=[instance.coverage_id])


def _on_line(instance: ServiceLine, **kwargs) -> None:
    figures_stale(authorizations=[instance.authorization_id])


def _on_payer(instance: Payer, **kwargs) -> None:
    # Its rounding rule changes what visits cost: its children only.
    figures_stale(coverages=Coverage.objects.filter(payer_id=instance.pk).values_list("pk", flat=True))


def _on_closure(instance: Closure, **kwargs) -> None:
    figures_stale(practices=[instance.practice_id])  # no series visit that day, for any child


def connect() -> None:
    for sender, receiver in ((Appointment, _on_appointment), (Series, _on_plan_child),
                             (PlanOfCareService, _on_plan_child), (SeriesSkip, _on_skip), (PlanOfCare, _on_plan),
                             (Coverage, _on_coverage), (Authorization, _on_authorization),
                             (ServiceLine, _on_line), (Closure, _on_closure), (Payer, _on_payer)):
        uid = f"authorization-figures-{sender.__name__}"
        post_save.connect(receiver, sender=sender, dispatch_uid=uid)
        post_delete.connect(receiver, sender=sender, dispatch_uid=uid + "-delete")
