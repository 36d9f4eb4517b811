"""Importing a FHIR R4 Bundle (collection or transaction) with the same dry run and
all-or-nothing rules as a spreadsheet: every entry is checked in both layers, every
reference must resolve, and the resources become rows for the import engine.

Rows are entry numbers (entry 1 is the first), columns are FHIR paths.
"""

import datetime as dt
import functools
import json
import os
from typing import Any

from pedsdesk.codes import CPT_CODES
from pedsdesk.interop.actions import file_sha256, finish_run
from pedsdesk.interop.engine import Importer, Report
from pedsdesk.interop.fhir import codes
from pedsdesk.interop.fhir.validation import check, resource_types
from pedsdesk.interop.mapping import Mapping
from pedsdesk.interop.models import ExternalId, ImportRun
from pedsdesk.practices.models import Practice, StaffMember

IMPORTED = ("Patient", "RelatedPerson", "Coverage", "ClaimResponse", "CarePlan", "ServiceRequest", "Appointment")
# Entries that only give names to references (a payer, a therapist).
CONTEXT = ("Organization", "Practitioner", "PractitionerRole")
MAX_BUNDLE_BYTES = 50 * 1024 * 1024
FHIR_MAPPING = Mapping(name="FHIR R4 Bundle", source="fhir", record_type="patients", columns={})

# Where each engine field comes from, for messages.
PATHS = {
    "patients": {"external_id": "Patient.id", "first_name": "Patient.name.given", "last_name": "Patient.name.family",
                 "date_of_birth": "Patient.birthDate"},
    "guardians": {"external_id": "RelatedPerson.id", "patient_external_id": "RelatedPerson.patient",
                  "guardian_first_name": "RelatedPerson.name.given", "guardian_phone": "RelatedPerson.telecom",
                  "guardian_email": "RelatedPerson.telecom", "guardian_language": "RelatedPerson.communication",
                  "first_name": "RelatedPerson.name.given", "phone": "RelatedPerson.telecom",
                  "email": "RelatedPerson.telecom"},
    "coverages": {"external_id": "Coverage.id", "patient_external_id": "Coverage.beneficiary",
                  "payer": "Coverage.payor", "member_id": "Coverage.subscriberId", "start_date": "Coverage.period",
                  "end_date": "Coverage.period.end"},
    "authorizations": {"external_id": "ClaimResponse.id", "patient_external_id": "ClaimResponse.patient",
                       "payer": "ClaimResponse.insurer", "number": "ClaimResponse.preAuthRef",
                       "start_date": "ClaimResponse.preAuthPeriod.start",
                       "end_date": "ClaimResponse.preAuthPeriod.end", "cpt_codes": "ClaimResponse.addItem",
                       "quantity": "ClaimResponse.addItem.adjudication.value", "discipline": "ClaimResponse"},
    "plans_of_care": {"external_id": "CarePlan.id", "patient_external_id": "CarePlan.subject",
                      "therapist": "CarePlan.author", "start_date": "CarePlan.period",
                      "end_date": "CarePlan.period.end", "frequency_per_week": "CarePlan.activity.scheduledTiming",
                      "minutes": "CarePlan.activity.scheduledTiming", "goals": "CarePlan.note",
                      "cpt_codes": "CarePlan.activity.detail.code", "discipline": "CarePlan"},
    "appointments": {"external_id": "Appointment.id", "patient_external_id": "Appointment.participant",
                     "therapist": "Appointment.participant", "start": "Appointment.start", "end": "Appointment.end",
                     "status": "Appointment.status"},
}


class Where:
    """The engine's view of "columns" for FHIR: every field is present; its place is a FHIR path."""

    def __init__(self, record_type: str):
        self.paths = PATHS[record_type]
        self.index = dict.fromkeys(["start", "end", *self.paths], 0)

    def where(self, name: str) -> str:
        return self.paths.get(name, name)


class _Bundle:
    """The entries of a Bundle, checked, indexed for references."""

    def __init__(self, bundle: Any, report: Report):
        self.report = report
        self.entries: list[tuple[int, dict]] = []
        self.by_reference: dict[str, tuple[int, dict]] = {}
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            report.reject(0, "Bundle", "The file is not a FHIR Bundle (its resourceType must be Bundle).")
            return
        if bundle.get("type") not in ("collection", "transaction"):
            report.reject(0, "Bundle.type", f'A Bundle of type "{bundle.get("type")}" cannot be imported; '
                                            "send a collection or a transaction.")
            return
        shallow = {**bundle, "entry": [{k: v for k, v in e.items() if k != "resource"}
                                       for e in bundle.get("entry", []) if isinstance(e, dict)]}
        for problem in check(shallow):
            report.reject(0, "Bundle", problem)
        for number, entry in enumerate(bundle.get("entry", []), start=1):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                report.reject(number, "Bundle.entry", "The entry has no resource.")
                continue
            kind = resource.get("resourceType", "")
            if kind not in resource_types():
                report.reject(number, "Bundle.entry.resource",
                              f'"{kind}" is not a FHIR R4 resource type; remove the entry or fix its resourceType.')
                continue
            if kind not in IMPORTED + CONTEXT:
                report.notes.append(f"Entry {number}: {kind} is not imported (pedsdesk imports "
                                    f"{', '.join(IMPORTED)}); skipped.")
                continue
            problems = check(resource)
            for problem in problems:
                report.reject(number, problem.split(":", 1)[0].split(" ", 1)[0], problem)
            if problems:
                continue
            self.entries.append((number, resource))
            if resource.get("id"):
                self.by_reference[f"{kind}/{resource['id']}"] = (number, resource)
            if entry.get("fullUrl"):
                self.by_reference[entry["fullUrl"]] = (number, resource)

    def of(self, kind: str) -> list[tuple[int, dict]]:
        return [(n, r) for n, r in self.entries if r["resourceType"] == kind]

    def resolve(self, number: int, path: str, reference: dict | None, kind: str, known: dict[str, ExternalId],
                required: bool = True) -> str | None:
        """The external id a reference points at, in the bundle or from an earlier import."""
        target = (reference or {}).get("reference", "")
        if not target:
            if required:
                self.report.reject(number, path, f"{path} needs a reference to a {kind}.")
            return None
        found = self.by_reference.get(target)
        if found is not None:
            if found[1]["resourceType"] != kind:
                self.report.reject(number, path, f"{path} points at {target}, a {found[1]['resourceType']}; "
                                                 f"it must reference a {kind}.")
                return None
            return _external_id(found[1])
        head, _, tail = target.rpartition("/")
        if head.endswith(kind) and tail in known:
            return tail
        self.report.reject(number, path, f"{path} references {target}, which is not in the bundle "
                                         f"(and pedsdesk has no {kind} with that id from earlier imports).")
        return None

    def name_of(self, reference: dict | None) -> str:
        """A payer's or therapist's name: the display, or the name on the entry it points at."""
        reference = reference or {}
        found = self.by_reference.get(reference.get("reference", ""))
        if found is not None:
            resource = found[1]
            if resource.get("name") and isinstance(resource["name"], str):
                return resource["name"]
            if resource.get("name"):
                name = resource["name"][0]
                return " ".join([*name.get("given", []), name.get("family", "")]).strip()
        return reference.get("display", "")


def _external_id(resource: dict) -> str:
    return str(resource.get("id") or resource.get("identifier", [{}])[0].get("value", ""))


def _extension(resource: dict, name: str) -> Any:
    for ext in resource.get("extension", []):
        if ext.get("url") == f"{codes.EXTENSION_BASE}/{name}":
            return next((v for k, v in ext.items() if k.startswith("value")), None)
    return None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _discipline(number: int, resource: dict, cpt_codes: list[str], report: Report | None) -> str | None:
    """The extension's discipline, or the one discipline all the codes belong to; else rejected
    (or None without a report, for the caller to decide)."""
    discipline = _extension(resource, "discipline")
    if discipline:
        return discipline
    shared = set.intersection(*[set(CPT_CODES[c].disciplines) for c in cpt_codes if c in CPT_CODES] or [set()])
    if len(shared) == 1:
        return shared.pop()
    if report is None:
        return None
    report.reject(number, resource["resourceType"],
                  f"The discipline (OT, PT or SLP) cannot be told from the codes {', '.join(cpt_codes) or '(none)'}; "
                  f"add the extension {codes.EXTENSION_BASE}/discipline.")
    return None


def _codes(concept: dict | None) -> list[str]:
    return [c["code"] for c in (concept or {}).get("coding", []) if c.get("system") == codes.CPT and c.get("code")]


class BundleReader:
    """Turns the bundle's resources into the engine's rows, one record type at a time."""

    def __init__(self, bundle: _Bundle, practice: Practice):
        self.bundle = bundle
        self.known = {kind: {e.external_id: e for e in ExternalId.objects.filter(
            practice=practice, source="fhir", record_type=kind)} for kind in ("patients", "coverages")}

    def rows(self, step: str, report: Report):
        self.bundle.report = report  # references that do not resolve reject rows of this run
        return getattr(self, step)(report)

    def patients(self, report: Report):
        for number, resource in self.bundle.of("Patient"):
            name = (resource.get("name") or [{}])[0]
            if not name.get("family") or not name.get("given"):
                report.reject(number, "Patient.name", "The patient needs a name with family and given parts.")
            elif not resource.get("birthDate"):
                report.reject(number, "Patient.birthDate", "The patient needs a birth date.")
            else:
                yield number, {"external_id": _external_id(resource), "first_name": " ".join(name["given"]),
                               "last_name": name["family"], "full_name": None,
                               "date_of_birth": _date(resource["birthDate"])}

    def guardians(self, report: Report):
        for number, resource in self.bundle.of("RelatedPerson"):
            patient = self.bundle.resolve(number, "RelatedPerson.patient", resource.get("patient"), "Patient",
                                          self.known["patients"])
            if patient is None:
                continue
            name = (resource.get("name") or [{}])[0]
            telecom = {t.get("system"): t.get("value") for t in resource.get("telecom", [])}
            relationship = None
            for concept in resource.get("relationship", []):
                for coding in concept.get("coding", []):
                    if coding.get("system") == codes.PEDSDESK_RELATIONSHIP:
                        relationship = coding["code"]
                    relationship = relationship or codes.ROLE_RELATIONSHIP.get(coding.get("code", ""))
            language = "en"
            for communication in resource.get("communication", []):
                for coding in communication.get("language", {}).get("coding", []):
                    if coding.get("code", "")[:2] == "es":
                        language = "es"
            identifier = next((i["value"] for i in resource.get("identifier", [])
                               if i.get("system") == codes.PEDSDESK_GUARDIAN), None)
            yield number, {"external_id": f"guardian-{identifier}" if identifier else _external_id(resource),
                           "patient_external_id": patient, "guardian_first_name": " ".join(name.get("given", [])),
                           "guardian_last_name": name.get("family", ""), "guardian_relationship": relationship,
                           "guardian_phone": telecom.get("phone"), "guardian_email": telecom.get("email"),
                           "guardian_language": language}

    def coverages(self, report: Report):
        for number, resource in self.bundle.of("Coverage"):
            patient = self.bundle.resolve(number, "Coverage.beneficiary", resource.get("beneficiary"), "Patient",
                                          self.known["patients"])
            payer = self.bundle.name_of((resource.get("payor") or [{}])[0])
            if patient is None:
                continue
            if not payer:
                report.reject(number, "Coverage.payor", "The coverage needs its payer (payor with a display name, "
                                                        "or a reference to an Organization in the bundle).")
                continue
            group = next((c.get("value") for c in resource.get("class", [])
                          if any(t.get("code") == "group" for t in c.get("type", {}).get("coding", []))), "")
            member = resource.get("subscriberId") or next(
                (i.get("value") for i in resource.get("identifier", [])), "")
            period = resource.get("period", {})
            if not member or not period.get("start"):
                report.reject(number, "Coverage", "The coverage needs subscriberId (the member id) and period.start.")
                continue
            yield number, {"external_id": _external_id(resource), "patient_external_id": patient, "payer": payer,
                           "member_id": member, "group_number": group, "priority": str(resource.get("order", 1)),
                           "start_date": _date(period.get("start")), "end_date": _date(period.get("end"))}

    def authorizations(self, report: Report):
        coverages = {_external_id(r): r for _, r in self.bundle.of("Coverage")}
        for number, resource in self.bundle.of("ClaimResponse"):
            if resource.get("use") != "preauthorization":
                report.reject(number, "ClaimResponse.use", f'ClaimResponse.use is "{resource.get("use")}"; '
                                                           "pedsdesk imports only preauthorization.")
                continue
            patient = self.bundle.resolve(number, "ClaimResponse.patient", resource.get("patient"), "Patient",
                                          self.known["patients"])
            insurance = (resource.get("insurance") or [{}])[0]
            coverage = self.bundle.resolve(number, "ClaimResponse.insurance.coverage", insurance.get("coverage"),
                                           "Coverage", self.known["coverages"], required=False)
            if patient is None or (insurance.get("coverage") and coverage is None):
                continue
            period = resource.get("preAuthPeriod", {})
            if not resource.get("preAuthRef") or not period.get("start") or not period.get("end"):
                report.reject(number, "ClaimResponse.preAuthRef",
                              "A pre-authorization needs preAuthRef (the number) and preAuthPeriod start and end.")
                continue
            lines = [(item, _codes(item.get("productOrService"))) for item in resource.get("addItem", [])]
            lines += [(item, []) for item in resource.get("item", [])]
            all_codes = [c for _, line_codes in lines for c in line_codes]
            discipline = _discipline(number, resource, all_codes, report)
            if discipline is None:
                continue
            status = _extension(resource, "authorization-status") or codes.OUTCOME_AUTHORIZATION.get(
                resource.get("outcome", ""), "approved")
            member = coverages.get(coverage, {}).get("subscriberId") if coverage else None
            head = {"external_id": _external_id(resource), "patient_external_id": patient,
                    "payer": self.bundle.name_of(resource.get("insurer")), "member_id": member,
                    "number": resource["preAuthRef"], "discipline": discipline,
                    "start_date": _date(period["start"]), "end_date": _date(period["end"]), "status": status,
                    "notes": None, "export_flag": None}
            if not lines:
                report.reject(number, "ClaimResponse.addItem", "The pre-authorization has no items with units.")
            for item, line_codes in lines:
                quantity = next((a.get("value") for a in item.get("adjudication", []) if a.get("value") is not None),
                                None)
                if quantity is None or quantity != int(quantity) or quantity <= 0:
                    report.reject(number, "ClaimResponse.addItem.adjudication.value",
                                  "Each item needs the authorized units or visits as adjudication.value "
                                  "(a whole number of at least 1).")
                    continue
                modifier = next((c.get("code") for m in item.get("modifier", []) for c in m.get("coding", [])), "")
                yield number, {**head, "cpt_codes": line_codes or None, "modifier": modifier,
                               "unit_type": _extension(item, "unit-type") or "units", "quantity": int(quantity),
                               "per_week_cap": _extension(item, "per-week-cap"),
                               "per_month_cap": _extension(item, "per-month-cap"), "cap": None}

    def plans_of_care(self, report: Report):
        for number, resource in [*self.bundle.of("CarePlan"), *self.bundle.of("ServiceRequest")]:
            kind = resource["resourceType"]
            categories = {c.get("code") for concept in resource.get("category", [])
                          for c in concept.get("coding", []) if c.get("system") == codes.PEDSDESK_CATEGORY}
            if categories and "plan-of-care" not in categories:
                report.notes.append(f"Entry {number}: a {kind} that is not a plan of care ({', '.join(categories)}); "
                                    "skipped.")
                continue
            patient = self.bundle.resolve(number, f"{kind}.subject", resource.get("subject"), "Patient",
                                          self.known["patients"])
            if patient is None:
                continue
            if kind == "CarePlan":
                detail = ((resource.get("activity") or [{}])[0]).get("detail", {})
                repeat = detail.get("scheduledTiming", {}).get("repeat", {})
                period = resource.get("period", {})
                therapist = self.bundle.name_of(resource.get("author")) or self.bundle.name_of(
                    (detail.get("performer") or [{}])[0])
                plan_codes = _codes(detail.get("code"))
                goals = "; ".join(n.get("text", "") for n in resource.get("note", []))
            else:
                repeat = resource.get("occurrenceTiming", {}).get("repeat", {})
                period = repeat.get("boundsPeriod", {})
                therapist = self.bundle.name_of((resource.get("performer") or [{}])[0])
                plan_codes = _codes(resource.get("code"))
                goals = "; ".join(n.get("text", "") for n in resource.get("note", [])) or "See the referral."
            if repeat.get("periodUnit") != "wk" or not repeat.get("frequency") or not repeat.get("duration"):
                report.reject(number, f"{kind}.scheduledTiming",
                              "A plan of care needs its frequency per week and visit length: timing.repeat with "
                              "frequency, period 1, periodUnit wk and duration in minutes.")
                continue
            if not period.get("start") or not period.get("end") or not therapist:
                report.reject(number, f"{kind}.period", "A plan of care needs its period (start and end) and "
                                                        "its therapist (author or performer).")
                continue
            # Codes shared by OT and PT leave the discipline to the therapist's (the engine's default).
            discipline = _extension(resource, "discipline") or _discipline(number, resource, plan_codes, None)
            yield number, {"external_id": f"{kind}-{_external_id(resource)}", "patient_external_id": patient,
                           "therapist": therapist, "discipline": discipline,
                           "frequency_per_week": int(repeat["frequency"]), "minutes": int(repeat["duration"]),
                           "start_date": _date(period["start"]), "end_date": _date(period["end"]),
                           "cpt_codes": plan_codes or None, "goals": goals or "See the plan of care."}

    def appointments(self, report: Report):
        for number, resource in self.bundle.of("Appointment"):
            patient = therapist = None
            for index, participant in enumerate(resource.get("participant", [])):
                actor = participant.get("actor", {})
                if actor.get("reference", "").rpartition("/")[0].endswith("Patient") or (
                        self.bundle.by_reference.get(actor.get("reference", ""), (0, {}))[1].get(
                            "resourceType") == "Patient"):
                    patient = self.bundle.resolve(number, f"Appointment.participant[{index}].actor", actor,
                                                  "Patient", self.known["patients"])
                    if patient is None:
                        break
                elif therapist is None:
                    therapist = self.bundle.name_of(actor)
            else:
                if patient is None or not therapist:
                    report.reject(number, "Appointment.participant",
                                  "The appointment needs the patient and the therapist among its participants.")
                    continue
                if not resource.get("start") or not resource.get("end"):
                    report.reject(number, "Appointment.start", "The appointment needs its start and end.")
                    continue
                status = _extension(resource, "appointment-status") or codes.FHIR_APPOINTMENT_STATUS.get(
                    resource["status"])
                if status is None:
                    report.reject(number, "Appointment.status",
                                  f'An appointment "{resource["status"]}" cannot be imported as a visit.')
                    continue
                yield number, {"external_id": _external_id(resource), "patient_external_id": patient,
                               "therapist": therapist, "start": dt.datetime.fromisoformat(resource["start"]),
                               "end": dt.datetime.fromisoformat(resource["end"]), "status": status,
                               "cancel_reason": resource.get("cancelationReason", {}).get("text"),
                               "kind": _extension(resource, "appointment-kind") or "treatment",
                               "cancelled_by": None, "export_flag": None, "date": None, "start_time": None,
                               "end_time": None, "minutes": None}


STEPS = ("patients", "guardians", "coverages", "authorizations", "plans_of_care", "appointments")


def import_bundle(*, practice: Practice, bundle: Any, actor: StaffMember | str, dry_run: bool,
                  resolutions: dict | None = None) -> Report:
    importer = Importer(practice=practice, mapping=FHIR_MAPPING, actor=actor, resolutions=resolutions)
    checked = Report(mapping=FHIR_MAPPING.name, record_type="fhir", dry_run=dry_run)
    entries = _Bundle(bundle, checked)
    reader = BundleReader(entries, practice)
    steps = [(step, Where(step), functools.partial(reader.rows, step)) for step in STEPS]
    report = importer.run_steps(steps, dry_run=dry_run or checked.rejected)
    report.record_type = "fhir"
    report.problems = checked.problems + report.problems
    report.notes = checked.notes + report.notes
    report.rows = len(bundle.get("entry", [])) if isinstance(bundle, dict) else 0
    report.applied = report.applied and not checked.rejected
    report.counts["rejected"] = len({p.row for p in report.problems})
    return report


def import_bundle_file(*, practice: Practice, path: str, actor: StaffMember | str, dry_run: bool,
                       resolutions: dict | None = None, origin: str = ImportRun.Origin.COMMAND,
                       run: ImportRun | None = None) -> tuple[ImportRun, Report]:
    if run is None:
        run = ImportRun.objects.create(
            practice=practice, started_by=actor if isinstance(actor, StaffMember) else None, origin=origin,
            mapping_name=FHIR_MAPPING.name, mapping_key="fhir", source="fhir", record_type="fhir",
            file_name=os.path.basename(path)[:255], file_sha256=file_sha256(path), dry_run=dry_run)
    report = Report(mapping=FHIR_MAPPING.name, record_type="fhir", dry_run=dry_run)
    size = os.path.getsize(path)
    if size > MAX_BUNDLE_BYTES:
        report.reject(0, "file", f"The bundle is {size / 1024 / 1024:.0f} MB; send at most "
                                 f"{MAX_BUNDLE_BYTES / 1024 / 1024:.0f} MB at a time.")
    else:
        try:
            with open(path, encoding="utf-8-sig") as handle:
                bundle = json.load(handle)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            report.reject(0, "file", f"The file is not FHIR JSON ({exc}).")
        else:
            report = import_bundle(practice=practice, bundle=bundle, actor=actor, dry_run=dry_run,
                                   resolutions=resolutions)
    return finish_run(run, report, actor), report
