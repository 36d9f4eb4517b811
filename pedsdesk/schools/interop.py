"""School coordination in interop's registries (registered from AppConfig.ready; interop
never imports schools): the family's consents as FHIR R4 Consent resources in a child's
export, and the school logs (record of disclosures, documentation requests) among the
exports back to the EMR."""

from __future__ import annotations

import datetime as dt

from pedsdesk.interop.exports import export_report
from pedsdesk.interop.fhir import codes
from pedsdesk.interop.fhir.export import META
from pedsdesk.interop.fhir.registry import fhir_resources
from pedsdesk.people.models import Patient
from pedsdesk.practices.models import Practice
from pedsdesk.schools.gate import is_expired
from pedsdesk.schools.models import (
    OUTSTANDING_REQUEST_STATES,
    ConsentState,
    Disclosure,
    DisclosureAuthorization,
    DocumentRequest,
    FerpaConsent,
    FerpaRecord,
    InfoCategory,
)

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
LOINC = "http://loinc.org"
RELEASE_OF_INFORMATION = "64292-6"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
HIPAA_AUTHORIZATION = "https://www.ecfr.gov/current/title-45/section-164.508"
FERPA_CONSENT = "https://www.ecfr.gov/current/title-34/section-99.30"
#: The kinds of record a consent covers, in pedsdesk's words.
INFO_CATEGORY = "https://pedsdesk.org/fhir/CodeSystem/school-info-category"
FERPA_RECORD = "https://pedsdesk.org/fhir/CodeSystem/school-record"
PEDSDESK_CONSENT = "https://pedsdesk.org/fhir/consent-id"


def _status(consent, today: dt.date) -> str:
    """Waiting for the family: proposed; signed and in force: active; revoked or run out: inactive."""
    if consent.state == ConsentState.DRAFT:
        return "proposed"
    if consent.state == ConsentState.REVOKED:
        return "inactive"
    if isinstance(consent, DisclosureAuthorization) and is_expired(consent, today):
        return "inactive"
    return "active"


def _actor(role: str, display: str) -> dict:
    return {"role": {"coding": [{"system": codes.PARTICIPATION_TYPE, "code": role}]}, "reference": {"display": display}}


def _common(consent, *, kind: str, today: dt.date) -> dict:
    zone = consent.practice.zone
    resource = {
        "resourceType": "Consent", "id": f"{kind}-{consent.pk}", "meta": META,
        "identifier": [{"system": PEDSDESK_CONSENT, "value": f"{kind}-{consent.pk}"}],
        "status": _status(consent, today),
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": LOINC, "code": RELEASE_OF_INFORMATION}]}],
        "patient": {"reference": f"Patient/{consent.patient_id}"},
        "dateTime": (consent.signed_at or consent.created_at).astimezone(zone).isoformat(),
        "organization": [{"display": consent.practice.name}],
    }
    if consent.signer_id:
        # The guardian's RelatedPerson of the same export.
        resource["performer"] = [{"reference": f"RelatedPerson/{consent.signer_id}-{consent.patient_id}",
                                  "display": consent.signer_name}]
    extensions = [{"url": f"{codes.EXTENSION_BASE}/consent-purpose", "valueString": consent.purpose}]
    if consent.revoked_at:
        extensions.append({"url": f"{codes.EXTENSION_BASE}/revoked-at",
                           "valueDateTime": consent.revoked_at.astimezone(zone).isoformat()})
    resource["extension"] = extensions
    return resource


def authorization_consent(authorization: DisclosureAuthorization, today: dt.date) -> dict:
    """An authorization to disclose (45 CFR 164.508): policyRule hipaa-auth, the period it
    holds, the recipients as actors (role IRCP), the kinds of record and their dates."""
    resource = _common(authorization, kind="school-authorization", today=today)
    resource["policy"] = [{"uri": HIPAA_AUTHORIZATION}]
    resource["policyRule"] = {"coding": [{"system": ACT_CODE, "code": "hipaa-auth"}]}
    if authorization.expiry_event:
        resource["extension"].append({"url": f"{codes.EXTENSION_BASE}/expiry-event",
                                      "valueString": authorization.expiry_event})
    zone = authorization.practice.zone
    period = {}
    if authorization.signed_at:
        period["start"] = authorization.signed_at.astimezone(zone).date().isoformat()
    ends = [d for d in (authorization.expires_on, authorization.expiry_event_on) if d]
    if authorization.revoked_at:
        ends.append(authorization.revoked_at.astimezone(zone).date())
    if ends:
        period["end"] = min(ends).isoformat()
    recipients = []
    if authorization.recipient_district:
        recipients.append(authorization.recipient_district)
    if authorization.recipient_school_id:
        recipients.append(authorization.recipient_school.name)
    recipients += [f"{c.name} ({c.get_role_display()}, {c.organization})"
                   for c in authorization.recipient_contacts.all()]
    provision = {
        "type": "permit",
        "actor": [_actor("IRCP", name) for name in recipients],
        "class": [{"system": INFO_CATEGORY, "code": c, "display": str(InfoCategory(c).label)}
                  for c in authorization.categories if c in InfoCategory.values],
    }
    if period:
        provision["period"] = period
    if authorization.records_from or authorization.records_to:
        provision["dataPeriod"] = {
            **({"start": authorization.records_from.isoformat()} if authorization.records_from else {}),
            **({"end": authorization.records_to.isoformat()} if authorization.records_to else {})}
    resource["provision"] = provision
    return resource


def ferpa_consent(consent: FerpaConsent, today: dt.date) -> dict:
    """The family's consent (34 CFR 99.30) for the school (custodian, CST) to send the
    named records to the practice (recipient, IRCP)."""
    resource = _common(consent, kind="ferpa-consent", today=today)
    resource["policy"] = [{"authority": "https://studentprivacy.ed.gov", "uri": FERPA_CONSENT}]
    provision = {"type": "permit",
                 "actor": [_actor("CST", consent.school.name), _actor("IRCP", consent.practice.name)],
                 "class": [{"system": FERPA_RECORD, "code": r, "display": str(FerpaRecord(r).label)}
                           for r in consent.records if r in FerpaRecord.values]}
    if consent.signed_at:
        provision["period"] = {"start": consent.signed_at.astimezone(consent.practice.zone).date().isoformat()}
        if consent.revoked_at:
            provision["period"]["end"] = consent.revoked_at.astimezone(consent.practice.zone).date().isoformat()
    resource["provision"] = provision
    return resource


@fhir_resources("schools.consents")
def consents(*, patient: Patient) -> list[dict]:
    today = patient.practice.local_now().date()
    authorizations = (DisclosureAuthorization.objects.filter(patient=patient)
                      .select_related("practice", "recipient_school").prefetch_related("recipient_contacts__school")
                      .order_by("pk"))
    ferpa = FerpaConsent.objects.filter(patient=patient).select_related("practice", "school").order_by("pk")
    return ([authorization_consent(a, today) for a in authorizations]
            + [ferpa_consent(c, today) for c in ferpa])


# --- Exports back ---------------------------------------------------------------------------

DISCLOSURE_COLUMNS = ["date", "time", "patient", "recipient", "organization", "address", "description", "purpose",
                      "sent_by", "status", "first_opened", "times_opened"]


def _name(patient: Patient) -> str:
    return f"{patient.last_name}, {patient.first_name}"


@export_report("school-disclosures", "School disclosures")
def disclosure_log(*, practice: Practice, since: dt.date, today: dt.date) -> tuple[list[str], list[dict]]:
    """The record of disclosures to schools since ``since``: what went to whom, why, who
    sent it, and whether and when the link was opened."""
    zone = practice.zone
    start = dt.datetime.combine(since, dt.time(), tzinfo=zone)
    rows = []
    for disclosure in (Disclosure.objects.filter(practice=practice, created_at__gte=start)
                       .select_related("patient", "contact__school", "message", "practice")
                       .order_by("created_at", "pk")):
        local = disclosure.created_at.astimezone(zone)
        opened = disclosure.first_opened_at.astimezone(zone) if disclosure.first_opened_at else None
        rows.append({"date": local.date(), "time": f"{local:%H:%M}", "patient": _name(disclosure.patient),
                     "recipient": disclosure.contact.name, "organization": disclosure.contact.organization,
                     "address": disclosure.to_address, "description": disclosure.description,
                     "purpose": disclosure.purpose, "sent_by": disclosure.sent_by,
                     "status": disclosure.status_label(zone),
                     "first_opened": f"{opened:%Y-%m-%d %H:%M}" if opened else "",
                     "times_opened": disclosure.open_count})
    return DISCLOSURE_COLUMNS, rows


REQUEST_COLUMNS = ["patient", "requester", "requested_by", "kind", "received", "due", "state", "assignee", "overdue",
                   "closed"]


@export_report("school-requests", "School documentation requests")
def request_log(*, practice: Practice, since: dt.date, today: dt.date) -> tuple[list[str], list[dict]]:
    """Documentation requests received since ``since``, and every one still outstanding."""
    zone = practice.zone
    start = dt.datetime.combine(since, dt.time(), tzinfo=zone)
    requests = (DocumentRequest.objects.filter(practice=practice)
                .filter(created_at__gte=start) | DocumentRequest.objects.filter(
                    practice=practice, state__in=OUTSTANDING_REQUEST_STATES))
    rows = []
    for doc in requests.select_related("patient", "assignee").order_by("due_on", "pk"):
        rows.append({"patient": _name(doc.patient), "requester": doc.get_requester_display(),
                     "requested_by": doc.requested_by, "kind": doc.get_kind_display(),
                     "received": doc.created_at.astimezone(zone).date(), "due": doc.due_on,
                     "state": doc.get_state_display(), "assignee": doc.assignee.get_full_name(),
                     "overdue": "yes" if doc.state in OUTSTANDING_REQUEST_STATES and doc.due_on < today else "",
                     "closed": doc.closed_at.astimezone(zone).date() if doc.closed_at else ""})
    return REQUEST_COLUMNS, rows
