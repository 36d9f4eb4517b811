"""Demo records of school coordination (registered with pedsdesk.demo.seeders).

Every school gets its team; some children have an IEP or 504 plan with review dates;
their families' authorizations are active, expired, revoked (one of them stopped a
send that was already queued) or waiting for a signature; requests stand in every
state, with signed and draft summaries; and a few meetings are coming up. Everything
goes through the same actions as staff and families, so the records are what the app
itself would have written.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef
from django.utils import timezone

from pedsdesk.demo.seeders import demo_seeder
from pedsdesk.people.models import GuardianOf, Patient, PlanOfCare
from pedsdesk.practices.models import Role, StaffMember
from pedsdesk.scheduling.models import WorkingHours
from pedsdesk.schools import actions
from pedsdesk.schools.models import (
    ContactRole,
    DisclosureAuthorization,
    RequestState,
    SchoolContact,
    StudentPlan,
)

_TEAM = [("Dana", "Whitfield", ContactRole.CASE_MANAGER), ("Sam", "Ortiz", ContactRole.SCHOOL_SLP),
         ("Priya", "Raman", ContactRole.SCHOOL_OT), ("Lee", "Park", ContactRole.COORDINATOR_504)]
_LAST = ["Whitfield", "Ortiz", "Raman", "Park", "Nguyen", "Brooks", "Keller", "Soto", "Adler", "Mendez"]


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())[:12]


def _team(practice, rng) -> dict[int, list[SchoolContact]]:
    teams = {}
    for number, school in enumerate(practice.schools.order_by("name")):
        members = []
        for first, _last, role in _TEAM:
            last = _LAST[(number + len(members)) % len(_LAST)]
            members.append(SchoolContact.objects.create(
                practice=practice, school=school, name=f"{first} {last}", role=role,
                email=f"{first.lower()}.{last.lower()}@{_slug(school.name)}.k12.example"))
        teams[school.pk] = members
    district = practice.schools.exclude(district="").values_list("district", flat=True).first() or "Travis ISD"
    SchoolContact.objects.create(practice=practice, district=district, name="Morgan Ellis",
                                 role=ContactRole.DISTRICT, email="special.education@district.k12.example")
    return teams


def _children(practice) -> list[tuple[Patient, PlanOfCare]]:
    """Children at a school, with a guardian who may sign and a current plan of care."""
    signer = GuardianOf.objects.filter(patient=OuterRef("pk"), legal_authority=True)
    rows = []
    for patient in (Patient.objects.filter(practice=practice, is_active=True, school__isnull=False)
                    .filter(Exists(signer)).select_related("school", "practice").order_by("pk")[:40]):
        plan = patient.plans_of_care.select_related("therapist").order_by("-end_date").first()
        if plan is not None:
            rows.append((patient, plan))
    return rows


def _sign(authorization, patient, when: dt.datetime):
    link = GuardianOf.objects.filter(patient=patient, legal_authority=True).select_related("guardian").first()
    signed = actions.sign_authorization(authorization=authorization, guardian=link.guardian,
                                        typed_name=str(link.guardian), agreed=True, ip="198.51.100.23",
                                        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)")
    DisclosureAuthorization.objects.filter(pk=signed.pk).update(signed_at=when)
    return signed


@demo_seeder("schools", workflow=True)
def seed_schools(*, practice, rng, today: dt.date) -> dict[str, int]:
    front_desk = StaffMember.objects.filter(practice=practice, role=Role.FRONT_DESK).order_by("pk").first()
    if front_desk is None or not practice.schools.exists():
        return {}
    teams = _team(practice, rng)
    children = _children(practice)[:12]
    now = timezone.now()
    # Signatures carry the real clock; a demo seeded for another day keeps its expiries after them.
    ahead = max(today, practice.local_now().date())
    counts = {"school contacts": SchoolContact.objects.filter(practice=practice).count(), "school plans": 0,
              "authorizations to disclose": 0, "school requests": 0, "school summaries": 0, "school meetings": 0}
    for index, (patient, plan) in enumerate(children):
        team = teams[patient.school_id]
        case_manager, school_slp = team[0], team[1]
        StudentPlan.objects.create(
            patient=patient, plan_type="iep" if index % 3 else "504", case_manager=case_manager,
            annual_review_on=today + dt.timedelta(days=10 + 9 * index),
            reevaluation_on=today + dt.timedelta(days=200 + 30 * index))
        counts["school plans"] += 1
        state = ["active", "active", "active", "revoked", "expired", "draft"][index % 6]
        authorization = actions.create_authorization(
            actor=front_desk, patient=patient, categories=["progress_summaries", "meetings", "attendance"],
            purpose="Coordinating school services (IEP/504) at the family's request",
            recipient_school=patient.school, recipient_contacts=[case_manager],
            expires_on=ahead + dt.timedelta(days=25 if index == 1 else 300),
            template="new_york" if index == 2 else "general_us")
        counts["authorizations to disclose"] += 1
        if state != "draft":
            authorization = _sign(authorization, patient, now - dt.timedelta(days=40 + index))
        if state == "expired":
            DisclosureAuthorization.objects.filter(pk=authorization.pk).update(
                expires_on=today - dt.timedelta(days=12), signed_at=now - dt.timedelta(days=380))
        if index < 4:
            consent = actions.create_ferpa_consent(actor=front_desk, patient=patient, school=patient.school,
                                                   records=["iep", "evaluations"],
                                                   purpose="To coordinate therapy goals with the IEP")
            if state != "draft":
                link = GuardianOf.objects.filter(patient=patient, legal_authority=True).first()
                actions.sign_ferpa_consent(consent=consent, guardian=link.guardian, typed_name=str(link.guardian),
                                           agreed=True, ip="198.51.100.23", user_agent="demo browser")
        # Requests in every state; summaries signed (and sent) or still drafts.
        request_state = [RequestState.SENT, RequestState.SIGNED, RequestState.DRAFTED, RequestState.SENT,
                         RequestState.OPEN, RequestState.OPEN, RequestState.CLOSED][index % 7]
        due = today + dt.timedelta(days=rng.randint(-4, 21))
        doc = actions.create_request(actor=front_desk, patient=patient, requester="school", kind="progress_summary",
                                     due_on=due, assignee=plan.therapist, contact=case_manager,
                                     requested_by=f"{case_manager.name}, case manager")
        counts["school requests"] += 1
        if request_state != RequestState.OPEN:
            summary = actions.create_summary(actor=front_desk, patient=patient, therapist=plan.therapist, doc=doc,
                                             period_from=today - dt.timedelta(days=90),
                                             period_to=min(today, practice.local_now().date()))
            actions.save_summary(actor=plan.therapist, summary=summary,
                                 progress=f"{patient.first_name} is making steady progress on each goal; see the "
                                          "attendance above for the visits behind it.",
                                 recommendations="Short movement breaks between seated tasks; visual checklists.")
            counts["school summaries"] += 1
            if request_state in (RequestState.SIGNED, RequestState.SENT, RequestState.CLOSED):
                summary = actions.sign_summary(actor=plan.therapist, summary=summary,
                                               typed_name=plan.therapist.get_full_name())
            if request_state == RequestState.SENT and state in ("active", "revoked"):
                actions.send_summary(actor=front_desk, summary=summary, contact=case_manager)
            if request_state == RequestState.CLOSED:
                actions.close_request(actor=front_desk, doc=doc)
        if state == "revoked":
            # Revoked while a send was queued: the outbox will never hand it over.
            actions.revoke_authorization(actor="family link (demo)", authorization=authorization,
                                         reason="The family asked to stop sharing with the school")
        if state == "active" and index < 6:
            for days in range(7, 21):
                day = ahead + dt.timedelta(days=days)
                hours = WorkingHours.objects.filter(therapist=plan.therapist, weekday=day.weekday()).first()
                if hours is None or day.weekday() >= 5:
                    continue
                # Within the therapist's hours, so the sessions it displaces become openings.
                start = dt.datetime.combine(day, hours.start, tzinfo=practice.zone)
                try:
                    actions.schedule_meeting(
                        actor=front_desk, patient=patient, therapist=plan.therapist, start_at=start,
                        end_at=start + dt.timedelta(minutes=45), kind="iep" if index % 3 else "504",
                        location=f"{patient.school.name}, conference room",
                        attendee_roles="Case manager, parent, general-education teacher, school SLP",
                        invitees=[case_manager, school_slp] if index % 2 else [case_manager])
                except actions.SchoolError:
                    continue
                counts["school meetings"] += 1
                break
    return counts
