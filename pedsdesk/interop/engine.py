"""Importing mapped rows into pedsdesk: dry run, all or nothing, idempotent per source.

A run reads every row, matches it on the EMR's external id, and decides for each
record: created, updated, unchanged, withdrawn or rejected (row, column, reason).
Then it applies everything in one transaction, through the same actions staff use
(booking, moving and cancelling visits), and rolls it all back if it was a dry run or
if any row was rejected. A dry run therefore checks exactly what applying would.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.authorizations.figures import figures_stale
from pedsdesk.authorizations.models import Authorization, Coverage, Payer, PayerType, ServiceLine
from pedsdesk.codes import codes_for_discipline
from pedsdesk.interop.mapping import RECORD_LABELS, BoundMapping, Mapping, Problem, bind, convert
from pedsdesk.interop.models import ExternalId
from pedsdesk.interop.reading import FileRefused, Table
from pedsdesk.people.models import Guardian, GuardianOf, Patient, PlanOfCare, PlanOfCareService
from pedsdesk.practices.models import Practice, Role, StaffMember, TherapistProfile
from pedsdesk.scheduling.actions import (
    BookingRefused,
    book_appointment,
    cancel_appointment,
    move_appointment,
    set_status,
)
from pedsdesk.scheduling.models import Appointment, AppointmentStatus, CancelledBy

SOURCE_NAMES = {"webpt": "WebPT", "therabill": "Therabill", "theralytics": "Theralytics", "fhir": "FHIR",
                "generic": "the EMR"}
CANCELLED = {"cancelled", "late_cancel"}
BULK = 1000


@dataclass
class Report:
    """What a run found and did; the dry-run table and the command's output come from it."""

    mapping: str
    record_type: str
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("created", "updated", "unchanged", "withdrawn", "rejected"), 0))
    problems: list[Problem] = field(default_factory=list)
    unknown: dict[str, dict[str, list[int]]] = field(default_factory=lambda: {"therapist": {}, "payer": {}})
    notes: list[str] = field(default_factory=list)
    rows: int = 0
    applied: bool = False
    changes: list[dict] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return bool(self.problems)

    def reject(self, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(row, column, message))

    def as_dict(self) -> dict:
        return {"mapping": self.mapping, "record_type": self.record_type, "dry_run": self.dry_run,
                "applied": self.applied, "rows": self.rows, "counts": self.counts,
                "rejections": [p.as_dict() for p in sorted(self.problems, key=lambda p: (p.row, p.column))],
                "unknown": {k: {name: rows[:20] for name, rows in v.items()} for k, v in self.unknown.items()},
                "notes": self.notes, "changes": self.changes[:200]}


class _Rollback(Exception):
    pass


class Known:
    """What pedsdesk keeps of one external id (light: a re-import of 100,000 visits holds them all)."""

    __slots__ = ("fingerprint", "object_id", "pk")

    def __init__(self, pk: int, object_id: int, fingerprint: str):
        self.pk, self.object_id, self.fingerprint = pk, object_id, fingerprint


def fingerprint(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def _errors(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [(name, " ".join(m for e in errors for m in e.messages)) for name, errors in exc.error_dict.items()]
    return [("", " ".join(exc.messages))]


class Importer:
    """One run over one file. ``resolutions`` answers the unknown names the dry run listed:
    {"therapist": {"J. Doe": "12" | "create:OT"}, "payer": {"BCBS TX": "3" | "create"}}."""

    def __init__(self, *, practice: Practice, mapping: Mapping, actor: StaffMember | str,
                 resolutions: dict | None = None, now: dt.datetime | None = None,
                 progress: Callable[[int], None] | None = None):
        self.practice, self.mapping, self.actor = practice, mapping, actor
        self.resolutions = resolutions or {}
        self.now = now or timezone.now()
        self.progress = progress
        self.source = mapping.source
        self.source_name = SOURCE_NAMES.get(self.source, self.source)
        self.zone = practice.zone

    # Reading

    def rows(self, table: Table, report: Report) -> Iterable[tuple[int, dict]]:
        bound, problems = bind(self.mapping, table)
        report.problems += problems
        report.notes += table.notes
        if problems:
            return
        self.bound = bound
        for number, cells in table.rows:
            report.rows += 1
            if self.progress and report.rows % 500 == 0:
                self.progress(report.rows)
            values, problems = convert(bound, number, cells)
            if problems:
                report.problems += problems
                continue
            yield number, values

    # Running

    def run(self, table: Table, *, dry_run: bool) -> Report:
        """Import one file with the mapping."""
        return self.run_steps([(self.mapping.record_type, None, lambda report: self.rows(table, report))],
                              dry_run=dry_run)

    def run_steps(self, steps: list[tuple[str, Any, Callable[[Report], Iterable[tuple[int, dict]]]]], *,
                  dry_run: bool) -> Report:
        """Import several record types in one transaction (a FHIR Bundle: patients, then their
        guardians, coverages, authorizations and visits). Each step is (record type, where, rows):
        ``where`` names a value's place for messages (the mapping's column when None)."""
        report = Report(mapping=self.mapping.name, record_type=self.mapping.record_type, dry_run=dry_run)
        if self.mapping.verify:
            report.notes.append(self.mapping.verify)
        try:
            with transaction.atomic():
                for record_type, where, rows in steps:
                    if where is not None:
                        self.bound = where
                    getattr(self, f"_import_{record_type}")(rows(report), report)
                if report.problems or dry_run:
                    raise _Rollback
                report.applied = True
        except _Rollback:
            pass
        except FileRefused as exc:
            report.reject(0, "file", str(exc))
        report.counts["rejected"] = len({p.row for p in report.problems})
        return report

    def _known(self, record_type: str) -> dict[str, "Known"]:
        return {external_id: Known(pk, object_id, print_) for external_id, pk, object_id, print_ in
                ExternalId.objects.filter(practice=self.practice, source=self.source, record_type=record_type)
                .values_list("external_id", "pk", "object_id", "fingerprint").iterator(chunk_size=5000)}

    def _remember(self, record_type: str, external_id: str, obj_id: int, print_: str,
                  known: dict[str, Known]) -> None:
        entry = known.get(external_id)
        if entry is None:
            created = ExternalId.objects.create(
                practice=self.practice, source=self.source, record_type=record_type, external_id=external_id,
                object_id=obj_id, fingerprint=print_)
            known[external_id] = Known(created.pk, obj_id, print_)
        else:
            ExternalId.objects.filter(pk=entry.pk).update(object_id=obj_id, fingerprint=print_, updated_at=self.now)
            entry.object_id, entry.fingerprint = obj_id, print_

    def _unique(self, report: Report, rows: Iterable[tuple[int, dict]]) -> Iterator[tuple[str, int, dict, str]]:
        """Each external id's row as it streams by, with its fingerprint; a repeated row, or one
        id with two sets of values, is rejected (and so, the whole import rolls back). Only a
        hash per value is kept of rows already seen, so memory stays small."""
        seen: dict[str, tuple[int, str, bytes]] = {}
        for number, values in rows:
            print_ = fingerprint(values)
            external_id = values["external_id"]
            digest = b"".join(hashlib.blake2b(repr(v).encode(), digest_size=4).digest() for v in values.values())
            first = seen.get(external_id)
            if first is None:
                seen[external_id] = (number, print_, digest)
                yield external_id, number, values, print_
                continue
            label = self.bound.where("external_id")
            name = label.split(" ", 1)[-1]
            if first[1] == print_:
                report.reject(number, label, f"Row {number} repeats row {first[0]} ({name} {external_id}); "
                                             "delete one of them.")
            else:
                differing = [self.bound.where(k) for i, k in enumerate(values)
                             if digest[i * 4:i * 4 + 4] != first[2][i * 4:i * 4 + 4]]
                report.reject(number, label, f"Rows {first[0]} and {number} both have {name} {external_id} "
                                             f"but different {', '.join(differing)}; keep the right one.")

    def _group(self, report: Report, rows: Iterable[tuple[int, dict]], key: Callable[[dict], Any]
               ) -> dict[str, list[tuple[int, dict]]]:
        """Rows by external id, for records made of several rows (an authorization's lines, a
        guardian's children): ``key`` tells the rows of one id apart, and a repeated key is rejected."""
        groups: dict[str, list[tuple[int, dict]]] = {}
        for number, values in rows:
            groups.setdefault(values["external_id"], []).append((number, values))
        label = self.bound.where("external_id") if groups else ""
        for external_id, members in groups.items():
            seen: dict[Any, int] = {}
            for number, values in members:
                if key(values) in seen:
                    report.reject(number, label, f"Row {number} repeats row {seen[key(values)]} "
                                                 f"({label.split(' ', 1)[-1]} {external_id}); delete one of them.")
                seen.setdefault(key(values), number)
        return groups

    def _unchanged(self, entry: Known | None, print_: str, report: Report) -> bool:
        """Whether the record is as this source's last import left it (counted as unchanged)."""
        if entry is not None and entry.fingerprint == print_:
            report.counts["unchanged"] += 1
            return True
        return False

    def _changed(self, report: Report, rows: Iterable[tuple[int, dict]], known: dict[str, Known]
                 ) -> Iterator[tuple[str, int, dict, str, Known | None]]:
        """The rows whose record is new or differs from what this source's last import left, each
        with its external id's entry (None when new)."""
        for external_id, row, values, print_ in self._unique(report, rows):
            entry = known.get(external_id)
            if not self._unchanged(entry, print_, report):
                yield external_id, row, values, print_, entry

    @staticmethod
    def _existing(entry: Known | None, queryset: QuerySet) -> Any:
        """The record a known external id points at, within ``queryset`` (the practice's), or
        None for a new one (or one deleted in pedsdesk since)."""
        return queryset.filter(pk=entry.object_id).first() if entry else None

    def _saved(self, record_type: str, external_id: str, obj: Any, created: bool, print_: str,
               known: dict[str, Known], report: Report) -> None:
        """A record written: audited, its external id remembered, counted."""
        self._audit("create" if created else "update", obj)
        self._remember(record_type, external_id, obj.pk, print_, known)
        report.counts["created" if created else "updated"] += 1

    def _patient_and(self, kind: str, names: dict, values: dict, row: int, report: Report,
                     patients: dict[str, Known]) -> tuple[int, Any] | None:
        """The row's patient (pedsdesk id) and its therapist or payer (``kind``), or None when
        either is unknown: both are looked up, so the dry run reports both."""
        patient_id = self._patient(values, row, report, patients)
        other = self._resolve(kind, values[kind], names, row, report)
        return None if patient_id is None or other is None else (patient_id, other)

    # Names the EMR uses for therapists and payers

    def _therapists(self) -> dict[str, StaffMember]:
        staff = StaffMember.objects.filter(practice=self.practice, role=Role.THERAPIST).select_related(
            "therapist_profile")
        names = {}
        for member in staff:
            for name in (f"{member.first_name} {member.last_name}", f"{member.last_name}, {member.first_name}",
                         member.username):
                names[name.casefold()] = member
        by_id = {m.pk: m for m in staff}
        for name, entry in self._known("therapist").items():
            if entry.object_id in by_id:
                names[name.casefold()] = by_id[entry.object_id]
        return names

    def _resolve(self, kind: str, name: str, known: dict, row: int, report: Report) -> Any:
        """The therapist or payer an EMR name means, or None (and the row is rejected)."""
        found = known.get(name.casefold())
        if found is not None:
            return found
        answer = str(self.resolutions.get(kind, {}).get(name, ""))
        obj = None
        if answer.startswith("create"):
            obj = self._create_therapist(name, answer, row, report) if kind == "therapist" else Payer.objects.create(
                practice=self.practice, name=name[:200], payer_type=PayerType.COMMERCIAL)
        elif answer.isdigit():
            model = StaffMember if kind == "therapist" else Payer
            extra = {"role": Role.THERAPIST} if kind == "therapist" else {}
            obj = model.objects.filter(practice=self.practice, pk=int(answer), **extra).first()
        if obj is None:
            report.unknown[kind].setdefault(name, []).append(row)
            noun = "therapists" if kind == "therapist" else "payers"
            report.reject(row, self.bound.where(kind),
                          f'"{name}" is not one of this practice\'s {noun}: map it to an existing one or create it.')
            return None
        ExternalId.objects.get_or_create(practice=self.practice, source=self.source, record_type=kind,
                                         external_id=name, defaults={"object_id": obj.pk})
        known[name.casefold()] = obj
        return obj

    def _create_therapist(self, name: str, answer: str, row: int, report: Report) -> StaffMember | None:
        discipline = answer.partition(":")[2].upper()
        if discipline not in ("OT", "PT", "SLP"):
            report.reject(row, self.bound.where("therapist"),
                          f'To create therapist "{name}", say the discipline: create:OT, create:PT or create:SLP.')
            return None
        first, _, last = name.replace(",", " ").partition(" ")
        member = StaffMember.objects.create(
            username=f"{self.source}-{fingerprint({'n': name})[:10]}", first_name=first[:150],
            last_name=last.strip()[:150], practice=self.practice, role=Role.THERAPIST, is_active=False)
        member.set_unusable_password()
        member.save(update_fields=["password"])
        # The office manager completes credentials and NPI and turns the login on.
        TherapistProfile.objects.create(staff_member=member, discipline=discipline, credentials="", npi="")
        record_event(actor=self.actor, action="create", obj=member, practice_id=self.practice.pk,
                     detail={"imported_from": self.source})
        return member

    def _payers(self) -> dict[str, Payer]:
        payers = {p.name.casefold(): p for p in Payer.objects.filter(practice=self.practice)}
        by_id = {p.pk: p for p in payers.values()}
        for name, entry in self._known("payer").items():
            if entry.object_id in by_id:
                payers[name.casefold()] = by_id[entry.object_id]
        return payers

    def _patient(self, values: dict, row: int, report: Report, patients: dict[str, Known]) -> int | None:
        entry = patients.get(values["patient_external_id"])
        if entry is None:
            report.reject(row, self.bound.where("patient_external_id"),
                          f"{self.source_name} patient {values['patient_external_id']} is not in pedsdesk yet: "
                          "import the patient list first.")
            return None
        return entry.object_id

    def _validated(self, obj: Any, row: int, report: Report, columns: dict[str, str], exclude: list[str] = ()
                   ) -> bool:
        try:
            obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, message in _errors(exc):
                report.reject(row, self.bound.where(columns.get(name, name)), message)
            return False
        return True

    def _audit(self, action: str, obj: Any, detail: dict | None = None) -> None:
        record_event(actor=self.actor, action=action, obj=obj, practice_id=self.practice.pk,
                     detail={"imported_from": self.source, **(detail or {})})

    # Patients and guardians

    def _import_patients(self, rows: Iterable[tuple[int, dict]], report: Report) -> None:
        known = self._known("patients")
        guardians = self._known("guardians")
        for external_id, row, values, print_, entry in self._changed(report, rows, known):
            patient = self._existing(entry, Patient.objects.filter(practice=self.practice))
            created = patient is None
            patient = patient or Patient(practice=self.practice)
            patient.first_name, patient.last_name = values["first_name"], values["last_name"]
            patient.date_of_birth = values["date_of_birth"]
            if not self._validated(patient, row, report, {}, exclude=["school"]):
                continue
            patient.save()
            self._audit("create" if created else "update", patient)
            self._remember("patients", external_id, patient.pk, print_, known)
            if values.get("guardian_first_name") and not self._save_guardian(patient, external_id, row, values,
                                                                             report, guardians):
                continue
            report.counts["created" if created else "updated"] += 1

    def _import_guardians(self, rows: Iterable[tuple[int, dict]], report: Report) -> None:
        """Guardians on their own rows (FHIR RelatedPerson): several for one child, and one
        guardian of siblings on one row per child (same id, another patient)."""
        known, patients = self._known("guardians"), self._known("patients")
        groups = self._group(report, rows, key=lambda values: values["patient_external_id"])
        for external_id, members in groups.items():
            row, values = members[0]
            print_ = fingerprint([v for _, v in members])
            entry = known.get(external_id)
            if self._unchanged(entry, print_, report):
                continue
            children = [self._patient(v, n, report, patients) for n, v in members]
            if None in children:
                continue
            if self._save_guardian(Patient.objects.get(pk=children[0]), external_id, row, values, report, known,
                                   print_, also=children[1:]):
                report.counts["updated" if entry else "created"] += 1

    def _save_guardian(self, patient: Patient, external_id: str, row: int, values: dict, report: Report,
                       known: dict[str, Known], print_: str = "", also: list[int] = ()) -> bool:
        entry = known.get(external_id)
        guardian = self._existing(entry, Guardian.objects.filter(practice=self.practice))
        created = guardian is None
        guardian = guardian or Guardian(practice=self.practice)
        guardian.first_name = values["guardian_first_name"]
        guardian.last_name = values.get("guardian_last_name") or patient.last_name
        guardian.phone = values.get("guardian_phone") or ""
        guardian.email = values.get("guardian_email") or ""
        guardian.language = values.get("guardian_language") or "en"
        guardian.preferred_channel = "sms" if guardian.phone or not guardian.email else "email"
        columns = {"first_name": "guardian_first_name", "phone": "guardian_phone", "email": "guardian_email",
                   "language": "guardian_language"}
        if not self._validated(guardian, row, report, columns):
            return False
        guardian.save()
        for child_id in (patient.pk, *also):
            GuardianOf.objects.get_or_create(guardian=guardian, patient_id=child_id, defaults={
                "relationship": values.get("guardian_relationship") or GuardianOf.Relationship.OTHER,
                "is_primary_contact": True})
        self._audit("create" if created else "update", guardian, {"patient": patient.pk})
        self._remember("guardians", external_id, guardian.pk, print_, known)
        return True

    # Coverages

    def _import_coverages(self, rows: Iterable[tuple[int, dict]], report: Report) -> None:
        known, patients, payers = self._known("coverages"), self._known("patients"), self._payers()
        for external_id, row, values, print_, entry in self._changed(report, rows, known):
            found = self._patient_and("payer", payers, values, row, report, patients)
            if found is None:
                continue
            patient_id, payer = found
            coverage = self._existing(entry, Coverage.objects.filter(patient__practice=self.practice))
            created = coverage is None
            coverage = coverage or Coverage(patient_id=patient_id)
            coverage.payer, coverage.member_id = payer, values["member_id"]
            coverage.group_number = values.get("group_number") or ""
            coverage.priority = int(values.get("priority") or 1)
            coverage.start_date, coverage.end_date = values["start_date"], values.get("end_date")
            if not self._validated(coverage, row, report, {}):
                continue
            coverage.save()
            self._saved("coverages", external_id, coverage, created, print_, known, report)

    # Authorizations and their service lines

    _AUTH_FIELDS = ("patient_external_id", "payer", "member_id", "number", "discipline", "start_date", "end_date",
                    "status", "notes")

    def _import_authorizations(self, rows: Iterable[tuple[int, dict]], report: Report) -> None:
        known, patients, payers = self._known("authorizations"), self._known("patients"), self._payers()

        def line_key(values: dict) -> str:
            return fingerprint([values.get("cpt_codes"), values.get("modifier")])

        groups = self._group(report, rows, key=line_key)
        for external_id, members in groups.items():
            row, head = members[0]
            differing = [self.bound.where(k) for k in self._AUTH_FIELDS
                         for _, other in members[1:] if other.get(k) != head.get(k)]
            if differing:
                report.reject(members[1][0], self.bound.where("external_id"),
                              f"Rows {row} and {members[1][0]} are lines of authorization {external_id} but "
                              f"differ in {', '.join(dict.fromkeys(differing))}; one authorization has one "
                              "number, payer and period.")
                continue
            if head.get("export_flag") == "3":
                report.notes.append(f"Authorization {external_id} was removed in {self.source_name}; "
                                    "pedsdesk keeps its record (change its status by hand if it was entered in error).")
                continue
            print_ = fingerprint([v for _, v in members])
            entry = known.get(external_id)
            if self._unchanged(entry, print_, report):
                continue
            found = self._patient_and("payer", payers, head, row, report, patients)
            if found is None:
                continue
            patient_id, payer = found
            if head["end_date"] < head["start_date"]:
                report.reject(row, self.bound.where("end_date"),
                              f"The end date {head['end_date']:%m/%d/%Y} is before the start date "
                              f"{head['start_date']:%m/%d/%Y}.")
                continue
            coverage = self._coverage_for(patient_id, payer, head, row, report)
            if coverage is None:
                continue
            authorization = self._existing(entry, Authorization.objects.filter(
                coverage__patient__practice=self.practice))
            created = authorization is None
            authorization = authorization or Authorization()
            authorization.coverage = coverage
            authorization.discipline, authorization.number = head["discipline"], head["number"]
            authorization.start_date, authorization.end_date = head["start_date"], head["end_date"]
            authorization.status = head.get("status") or "approved"
            authorization.notes = head.get("notes") or ""
            if not self._validated(authorization, row, report, {}, exclude=["previous"]):
                continue
            authorization.save()
            if not self._lines(authorization, members, report):
                continue
            self._saved("authorizations", external_id, authorization, created, print_, known, report)

    def _coverage_for(self, patient_id: int, payer: Payer, values: dict, row: int, report: Report) -> Coverage | None:
        coverages = Coverage.objects.filter(patient_id=patient_id, payer=payer)
        if values.get("member_id"):
            coverages = coverages.filter(member_id=values["member_id"])
        coverage = coverages.order_by("priority").first()
        if coverage is None and values.get("member_id"):
            coverage = Coverage.objects.create(patient_id=patient_id, payer=payer, member_id=values["member_id"],
                                               start_date=values["start_date"])
            self._audit("create", coverage)
        if coverage is None:
            report.reject(row, self.bound.where("payer"),
                          f"The patient has no {payer} coverage: import coverages first, or map a member id column.")
        return coverage

    def _lines(self, authorization: Authorization, members: list[tuple[int, dict]], report: Report) -> bool:
        authorization.lines.all().delete()
        ok = True
        for row, values in members:
            codes = values.get("cpt_codes") or [c.code for c in codes_for_discipline(authorization.discipline)
                                                if not c.evaluation]
            cap = values.get("cap")
            line = ServiceLine(
                authorization=authorization, cpt_codes=codes, modifier=values.get("modifier") or "",
                unit_type=values.get("unit_type") or "visits", quantity=values["quantity"],
                per_week_cap=values.get("per_week_cap") or (cap[0] if cap and cap[1] == "week" else None),
                per_month_cap=values.get("per_month_cap") or (cap[0] if cap and cap[1] == "month" else None))
            if not self._validated(line, row, report, {"cpt_codes": "cpt_codes"}, exclude=["authorization"]):
                ok = False
                continue
            line.save()
        return ok

    # Plans of care

    def _import_plans_of_care(self, rows: Iterable[tuple[int, dict]], report: Report) -> None:
        known, patients, therapists = self._known("plans_of_care"), self._known("patients"), self._therapists()
        for external_id, row, values, print_, entry in self._changed(report, rows, known):
            found = self._patient_and("therapist", therapists, values, row, report, patients)
            if found is None:
                continue
            patient_id, therapist = found
            plan = self._existing(entry, PlanOfCare.objects.filter(patient__practice=self.practice))
            created = plan is None
            plan = plan or PlanOfCare(patient_id=patient_id)
            for name in ("frequency_per_week", "minutes", "start_date", "end_date"):
                setattr(plan, name, values[name])
            plan.therapist = therapist
            profile = getattr(therapist, "therapist_profile", None)
            plan.discipline = values.get("discipline") or (profile.discipline if profile else "")
            # Goals arrive on one line from a spreadsheet, one per note from FHIR: "; " separates them.
            plan.goals = "\n".join(g.strip() for g in values["goals"].replace("\n", ";").split(";") if g.strip())
            if not self._validated(plan, row, report, {}):
                continue
            plan.save()
            plan.services.all().delete()
            for code in values.get("cpt_codes") or []:
                service = PlanOfCareService(plan_of_care=plan, cpt_code=code)
                if not self._validated(service, row, report, {"cpt_code": "cpt_codes"}, exclude=["plan_of_care"]):
                    break
                service.save()
            self._saved("plans_of_care", external_id, plan, created, print_, known, report)

    # Staff

    def _import_staff(self, rows: Iterable[tuple[int, dict]], report: Report) -> None:
        """Staff come in without a login: the office manager turns each one on from the staff page."""
        known = self._known("staff")
        for external_id, row, values, print_, entry in self._changed(report, rows, known):
            member = self._existing(entry, StaffMember.objects.filter(practice=self.practice))
            created = member is None
            if member is None:
                member = StaffMember(username=f"{self.source}-{fingerprint({'id': external_id})[:12]}",
                                     practice=self.practice, is_active=False)
                member.set_unusable_password()
            member.first_name, member.last_name = values["first_name"][:150], values["last_name"][:150]
            member.email, member.role = values.get("email") or "", values["role"]
            if not self._validated(member, row, report, {}, exclude=["password", "username"]):
                continue
            missing = [label for name, label in (("discipline", "the discipline"), ("credentials", "credentials"),
                                                 ("npi", "the NPI")) if not values.get(name)]
            if values["role"] == Role.THERAPIST and missing:
                them = "them" if len(missing) > 1 else "it"
                report.reject(row, self.bound.where("discipline" if "discipline" in missing[0] else "npi"),
                              f"A therapist needs {' and '.join(missing)}; fill {them} in.")
                continue
            if values["role"] == Role.THERAPIST:
                profile = getattr(member, "therapist_profile", None) if member.pk else None
                profile = profile or TherapistProfile(staff_member=member)
                profile.discipline = values.get("discipline") or ""
                profile.credentials, profile.npi = values.get("credentials") or "", values.get("npi") or ""
                if not self._validated(profile, row, report, {}, exclude=["staff_member"]):
                    continue
                member.save()
                profile.staff_member = member
                profile.save()
            else:
                member.save()
            self._saved("staff", external_id, member, created, print_, known, report)

    # Appointments

    def _when(self, values: dict, row: int, report: Report) -> tuple[dt.datetime, dt.datetime] | None:
        start = values.get("start")
        if start is None and values.get("date") and values.get("start_time"):
            start = dt.datetime.combine(values["date"], values["start_time"])
        if start is None:
            report.reject(row, self.bound.where("start" if "start" in self.bound.index else "date"),
                          "The visit has no start date and time; fill it in.")
            return None
        end = values.get("end")
        if end is None and values.get("end_time"):
            end = dt.datetime.combine(start.date(), values["end_time"])
        if end is None:
            end = start + dt.timedelta(minutes=values.get("minutes") or 45)
        start_at, end_at = self._aware(start, row, report), self._aware(end, row, report)
        if start_at is None or end_at is None:
            return None
        if end_at <= start_at:
            column = "end" if "end" in self.bound.index else ("end_time" if "end_time" in self.bound.index else
                                                              "minutes")
            report.reject(row, self.bound.where(column),
                          f"The visit ends ({end:%m/%d/%Y %I:%M %p}) before it starts ({start:%m/%d/%Y %I:%M %p}).")
            return None
        return start_at, end_at

    def _aware(self, local: dt.datetime, row: int, report: Report) -> dt.datetime | None:
        if local.tzinfo is not None:
            return local
        aware = local.replace(tzinfo=self.zone)
        if aware.astimezone(dt.UTC).astimezone(self.zone).replace(tzinfo=None) != local:
            report.reject(row, self.bound.where("start" if "start" in self.bound.index else "start_time"),
                          f"{local:%m/%d/%Y %I:%M %p} does not exist in {self.practice.time_zone} "
                          "(the clocks spring forward then); check the time.")
            return None
        return aware

    def _import_appointments(self, rows: Iterable[tuple[int, dict]], report: Report) -> None:
        known, patients, therapists = self._known("appointments"), self._known("patients"), self._therapists()
        pending: list[tuple[Appointment, str, str]] = []
        visits = Appointment.objects.filter(practice=self.practice).select_related("patient", "therapist")
        for external_id, row, values, print_, entry in self._changed(report, rows, known):
            appointment = self._existing(entry, visits)
            if values.get("export_flag") == "3":
                self._withdraw(appointment, row, values, report)
                if appointment is not None:
                    self._remember("appointments", external_id, appointment.pk, print_, known)
                continue
            found = self._patient_and("therapist", therapists, values, row, report, patients)
            when = self._when(values, row, report)
            if found is None or when is None:
                continue
            patient_id, therapist = found
            status = values.get("status") or AppointmentStatus.BOOKED
            if appointment is None:
                values["plan_of_care"] = self._plan(patient_id, therapist, when[0])
                appointment = self._new_visit(patient_id, therapist, when, status, values, row, report, pending,
                                              external_id, print_)
                if appointment is not None:
                    self._remember("appointments", external_id, appointment.pk, print_, known)
                continue
            if self._update_visit(appointment, therapist, when, status, values, row, report):
                self._remember("appointments", external_id, appointment.pk, print_, known)
                report.counts["updated"] += 1
        self._flush(pending, known, report)

    def _plan(self, patient_id: int, therapist: StaffMember, start_at: dt.datetime) -> PlanOfCare | None:
        """The child's plan of care the visit belongs to: the therapist's discipline, covering the day."""
        if not hasattr(self, "_plans"):
            self._plans: dict[int, list[PlanOfCare]] = {}
            for plan in PlanOfCare.objects.filter(patient__practice=self.practice):
                self._plans.setdefault(plan.patient_id, []).append(plan)
        day = start_at.astimezone(self.zone).date()
        profile = getattr(therapist, "therapist_profile", None)
        for plan in self._plans.get(patient_id, []):
            if plan.start_date <= day <= plan.end_date and (profile is None or plan.discipline == profile.discipline):
                return plan
        return None

    def _new_visit(self, patient_id: int, therapist: StaffMember, when: tuple, status: str, values: dict, row: int,
                   report: Report, pending: list, external_id: str, print_: str) -> Appointment | None:
        start_at, end_at = when
        kind = values.get("kind") or "treatment"
        if start_at > self.now and status in ("booked", "confirmed"):
            # A future visit is booked the way the front desk books one: every check, the guard, reminders.
            try:
                appointment = book_appointment(
                    actor=self.actor, practice=self.practice, therapist=therapist,
                    patient=Patient.objects.get(pk=patient_id), start_at=start_at,
                    minutes=int((end_at - start_at).total_seconds() // 60), kind=kind,
                    plan_of_care=values["plan_of_care"],
                    override_reason=f"Booked in {self.source_name}")
            except BookingRefused as exc:
                report.reject(row, self.bound.where("start" if "start" in self.bound.index else "date"),
                              f"{exc} ({self.source_name} has this visit; pedsdesk cannot book it.)")
                return None
            if status == "confirmed":
                set_status(actor=self.actor, appointment=appointment, status="confirmed")
            report.counts["created"] += 1
            return appointment
        # History (and visits the EMR already cancelled) is recorded as it happened.
        cancelled = status in CANCELLED
        appointment = Appointment(
            practice=self.practice, patient_id=patient_id, therapist=therapist, kind=kind, status=status,
            plan_of_care=values["plan_of_care"],
            start_at=start_at, end_at=end_at, cancel_reason=(values.get("cancel_reason") or "")[:200],
            cancelled_by=(values.get("cancelled_by") or CancelledBy.FAMILY) if cancelled else "",
            cancelled_at=self.now if cancelled else None)
        pending.append((appointment, external_id, print_))
        report.counts["created"] += 1
        if len(pending) >= BULK:
            self._flush(pending, {}, report)
        return None

    def _flush(self, pending: list, known: dict, report: Report) -> None:
        """Record a batch of past visits at once, with one audit event naming them all."""
        if not pending:
            return
        created = Appointment.objects.bulk_create([a for a, _, _ in pending])
        ExternalId.objects.bulk_create([
            ExternalId(practice=self.practice, source=self.source, record_type="appointments", external_id=ext,
                       object_id=a.pk, fingerprint=print_)
            for a, (_, ext, print_) in zip(created, pending, strict=True)])
        record_event(actor=self.actor, action="create", object_type="scheduling.appointment",
                     object_id=f"{created[0].pk}..{created[-1].pk}", practice_id=self.practice.pk,
                     detail={"imported_from": self.source, "appointments": [a.pk for a in created],
                             "patients": sorted({a.patient_id for a in created})})
        # A bulk insert sends no signal: the board's stored figures are marked by hand.
        figures_stale(patients={a.patient_id for a in created})
        pending.clear()

    def _update_visit(self, appointment: Appointment, therapist: StaffMember, when: tuple, status: str,
                      values: dict, row: int, report: Report) -> bool:
        start_at, end_at = when
        where = self.bound.where("status")
        future = appointment.start_at > self.now
        reason = values.get("cancel_reason") or f"Cancelled in {self.source_name}"
        try:
            if status in CANCELLED and appointment.status in ("booked", "confirmed") and future:
                by = values.get("cancelled_by") or CancelledBy.FAMILY
                # As if the front desk pressed Cancel: the time becomes an opening and offers go out.
                cancel_appointment(actor=self.actor, appointment=appointment, by=by, reason=reason, now=self.now)
                report.changes.append(self._change(row, "cancelled: becomes an opening", appointment))
                return True
            moved = (start_at, end_at, therapist.pk) != (appointment.start_at, appointment.end_at,
                                                         appointment.therapist_id)
            if moved and appointment.status in ("booked", "confirmed") and start_at > self.now:
                before = appointment.start_at
                where = self.bound.where("start" if "start" in self.bound.index else "date")
                move_appointment(actor=self.actor, appointment=appointment, start_at=start_at,
                                 minutes=int((end_at - start_at).total_seconds() // 60), therapist=therapist,
                                 override_reason=f"Moved in {self.source_name}")
                appointment.refresh_from_db()
                report.changes.append(self._change(row, "moved", appointment, before))
            if status != appointment.status and status not in CANCELLED:
                try:
                    set_status(actor=self.actor, appointment=appointment, status=status)
                except ValueError:
                    self._record(appointment, status=status)
            elif status != appointment.status or (moved and not future):
                self._record(appointment, status=status, start_at=start_at, end_at=end_at, therapist=therapist,
                             cancel_reason=reason[:200] if status in CANCELLED else appointment.cancel_reason)
        except (BookingRefused, ValueError) as exc:
            report.reject(row, where, f"{exc} ({self.source_name} has this change; pedsdesk cannot make it.)")
            return False
        return True

    def _change(self, row: int, change: str, appointment: Appointment, before: dt.datetime | None = None) -> dict:
        """One line of the dry run's "visits that change" table, in the practice's time."""
        def local(at: dt.datetime) -> str:
            return f"{at.astimezone(self.zone):%a %b %-d, %-I:%M %p}"

        return {"row": row, "change": change, "appointment": appointment.pk,
                "patient": f"{appointment.patient.first_name} {appointment.patient.last_name[:1]}.",
                "when": local(appointment.start_at), "was": local(before) if before else ""}

    def _record(self, appointment: Appointment, **fields: Any) -> None:
        """A past visit's outcome, recorded as the EMR has it (there is nothing left to schedule)."""
        for name, value in fields.items():
            setattr(appointment, name, value)
        appointment.sequence += 1
        appointment.updated_at = self.now
        appointment.save()
        self._audit("update", appointment, {"fields": sorted(fields)})

    def _withdraw(self, appointment: Appointment | None, row: int, values: dict, report: Report) -> None:
        """export_flag 3: the EMR removed the visit; a coming one is cancelled the way staff cancel."""
        if appointment is None or appointment.status not in ("booked", "confirmed"):
            report.counts["unchanged"] += 1
            return
        if appointment.start_at <= self.now:
            report.counts["unchanged"] += 1
            report.notes.append(f"Row {row}: a past visit removed in {self.source_name} is kept as it was.")
            return
        cancel_appointment(actor=self.actor, appointment=appointment, by=CancelledBy.CLINIC,
                           reason=f"Removed in {self.source_name}", now=self.now)
        report.changes.append(self._change(row, "withdrawn: becomes an opening", appointment))
        report.counts["withdrawn"] += 1


def label_for(record_type: str) -> str:
    return RECORD_LABELS.get(record_type, record_type)


__all__ = ["BoundMapping", "Importer", "Report", "fingerprint", "label_for"]
