"""Work-queue rules of home programs, registered with the work queue from here (the
work queue never imports hep). Each yields the tasks that should be open now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import F

from pedsdesk.hep.models import Delivery, DeliveryState, Feedback, HepPolicy, HomeProgram, QuestionKind
from pedsdesk.hep.queries import current_figures
from pedsdesk.practices.models import Practice, Role
from pedsdesk.sweeps import counted, joined
from pedsdesk.workqueue.actions import TaskSpec
from pedsdesk.workqueue.lists import task_list
from pedsdesk.workqueue.models import Priority
from pedsdesk.workqueue.rules import task_rule

UNREACHED_RULE = "hep_program_unreached"


def unreached_spec(delivery: Delivery) -> TaskSpec:
    patient = delivery.version.program.patient
    guardian = delivery.guardian
    why = (f"Nothing could be sent: {delivery.status_reason}." if delivery.state == DeliveryState.FAILED
           else "It was sent, reminded and tried on the other channel, and is still not opened.")
    return TaskSpec(
        dedupe_key=f"hep-unreached:{delivery.pk}",
        title=f"Home program not reaching {guardian} ({patient.first_name} {patient.last_name[:1]}.)",
        reason=(f"{patient.first_name}'s home program (version {delivery.version.number}) has not reached "
                f"{guardian}. {why} Call them at {guardian.phone_display or 'no number on file'}, fix the number "
                f"or address if needed, then resend it from the program page."),
        subject=delivery, patient_id=patient.pk, role=Role.FRONT_DESK, priority=Priority.NORMAL, due_in_days=1,
        links=[{"label": "Home program", "url": delivery.version.program.get_absolute_url()},
               {"label": str(guardian), "url": guardian.get_absolute_url()}])


# Both come in dozens on a busy day: rows of a list (the front desk's calls to make; each
# queue's family questions), not a screen of separate tasks.
task_list("questions", title="Family questions to answer")


def _unreached():
    """Current versions' deliveries not opened after every follow-up."""
    return (Delivery.objects.filter(opened_at__isnull=True, follow_up_step__gte=3)
            .filter(version__program__current_version_id=F("version_id")).exclude(state=DeliveryState.OPENED))


def _unreached_marks(now: dt.datetime) -> dict[int, tuple]:
    return counted(_unreached())


def _adherence_marks(now: dt.datetime) -> dict[int, tuple]:
    """The current versions (a new one has the highest id), and every answer."""
    return joined(counted(HomeProgram.objects.filter(current_version__isnull=False, patient__is_active=True),
                          changed="current_version_id"), counted(Feedback.objects.all()))


@task_rule(UNREACHED_RULE, kind=UNREACHED_RULE, schedule="hourly", label="Home program not reaching the family",
           listed_in="calls", due=_unreached_marks)
def unreached(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    for delivery in _unreached().filter(practice=practice).select_related("guardian", "version__program__patient"):
        yield unreached_spec(delivery)


@task_rule("hep_low_adherence", kind="hep_low_adherence", schedule="hourly", label="Home practice low",
           due=_adherence_marks)
def low_adherence(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """The treating therapist: reported practice below the practice's threshold."""
    threshold = float(HepPolicy.for_practice(practice).low_adherence)
    for row in current_figures(practice):
        if row.figures.adherence is None or row.figures.adherence >= threshold:
            continue
        patient = row.patient
        yield TaskSpec(
            dedupe_key=f"hep-low:{row.version.pk}",
            title=f"{patient.first_name} {patient.last_name[:1]}. practised {row.figures.days_practised} of "
                  f"{row.figures.days_prescribed} days",
            reason=(f"The family reported {row.figures.adherence:.0%} of the prescribed practice days on version "
                    f"{row.version.number} (the practice's threshold is {threshold:.0%}). Look at their answers "
                    f"before the next visit; a shorter or easier program may help."),
            subject=row.version.program, patient_id=patient.pk, assignee=row.therapist,
            role="" if row.therapist else Role.THERAPIST, due_in_days=1,
            links=[{"label": "Home program", "url": row.version.program.get_absolute_url()}])


def _open_questions():
    return Feedback.objects.filter(answered_at__isnull=True).exclude(question="")


def _question_marks(now: dt.datetime) -> dict[int, object]:
    """Every practice's open questions: how many, and which (an answer closes one)."""
    return counted(_open_questions())


@task_rule("hep_family_question", kind="hep_family_question", schedule="minute", label="Family question",
           listed_in="questions", due=_question_marks)
def family_questions(practice: Practice, now: dt.datetime) -> Iterator[TaskSpec]:
    """Questions about the program go to the treating therapist; scheduling and paperwork to the front desk."""
    open_questions = (_open_questions().filter(practice=practice)
                      .select_related("patient", "guardian", "version__program", "version__created_by"))
    for feedback in open_questions:
        patient = feedback.patient
        logistics = feedback.question_kind == QuestionKind.LOGISTICS
        therapist = None if logistics else feedback.version.created_by
        yield TaskSpec(
            dedupe_key=f"hep-question:{feedback.pk}",
            title=f"{feedback.guardian or 'A guardian'} asks about "
                  f"{'scheduling or paperwork' if logistics else 'home practice'} "
                  f"({patient.first_name} {patient.last_name[:1]}.)",
            reason=(f"They wrote: “{feedback.question[:500]}”. Answer them, then mark the question answered on the "
                    f"home program page."),
            subject=feedback, patient_id=patient.pk, assignee=therapist,
            role=Role.FRONT_DESK if logistics else ("" if therapist else Role.THERAPIST),
            priority=Priority.HIGH, due_in_days=1,
            links=[{"label": "Home program", "url": feedback.version.program.get_absolute_url()}])
