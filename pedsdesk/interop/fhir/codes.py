"""Code systems and the maps between pedsdesk's words and FHIR R4's codes (no Django)."""

EXTENSION_BASE = "https://pedsdesk.org/fhir/StructureDefinition"
PEDSDESK_PATIENT = "https://pedsdesk.org/fhir/patient-id"
PEDSDESK_GUARDIAN = "https://pedsdesk.org/fhir/guardian-id"
PEDSDESK_CATEGORY = "https://pedsdesk.org/fhir/CodeSystem/care-plan-category"
PEDSDESK_RELATIONSHIP = "https://pedsdesk.org/fhir/CodeSystem/relationship"
CPT = "http://www.ama-assn.org/go/cpt"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


def external_system(source: str) -> str:
    """The identifier system of an EMR's ids, kept per source."""
    return f"https://pedsdesk.org/fhir/external-id/{source}"


# pedsdesk relationship → HL7 v3 RoleCode (the pedsdesk code rides along so nothing is lost).
RELATIONSHIP_ROLE = {"mother": "MTH", "father": "FTH", "grandparent": "GRPRN", "foster_parent": "GUARD",
                     "legal_guardian": "GUARD", "other": "FAMMEMB"}
ROLE_RELATIONSHIP = {"MTH": "mother", "NMTH": "mother", "FTH": "father", "NFTH": "father", "GRPRN": "grandparent",
                     "GRMTH": "grandparent", "GRFTH": "grandparent", "GUARD": "legal_guardian",
                     "PRN": "other", "FAMMEMB": "other"}


def relationship_concept(relationship: str) -> dict:
    return {"coding": [{"system": ROLE_CODE, "code": RELATIONSHIP_ROLE[relationship]},
                       {"system": PEDSDESK_RELATIONSHIP, "code": relationship}]}


APPOINTMENT_STATUS = {"booked": "booked", "confirmed": "booked", "checked_in": "arrived", "completed": "fulfilled",
                      "cancelled": "cancelled", "late_cancel": "cancelled", "no_show": "noshow"}
FHIR_APPOINTMENT_STATUS = {"proposed": "booked", "pending": "booked", "booked": "booked", "arrived": "checked_in",
                           "checked-in": "checked_in", "fulfilled": "completed", "cancelled": "cancelled",
                           "noshow": "no_show"}
AUTHORIZATION_OUTCOME = {"requested": "queued", "pending": "queued", "approved": "complete",
                         "partially_approved": "partial", "denied": "error", "expired": "complete",
                         "exhausted": "complete"}
OUTCOME_AUTHORIZATION = {"queued": "pending", "complete": "approved", "partial": "partially_approved",
                         "error": "denied"}
TASK_STATUS = {"open": "requested", "claimed": "in-progress", "snoozed": "on-hold", "done": "completed",
               "cancelled": "cancelled"}
