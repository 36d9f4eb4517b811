"""The school workflow's PDFs (fpdf2): the signed authorization, the signed FERPA consent,
the signed summary, and a child's record of disclosures.

Consent forms print in the language they were signed in; the summary and the record
are for the school team and the office, in English.
"""

from __future__ import annotations

import datetime as dt

from django.utils import translation
from django.utils.translation import gettext as _

from pedsdesk.pdf import DocumentPDF, pdf_date, pdf_text
from pedsdesk.schools.consent_text import FERPA_STATEMENTS, TEMPLATES
from pedsdesk.schools.models import (
    Disclosure,
    DisclosureAuthorization,
    FerpaConsent,
    FerpaRecord,
    InfoCategory,
    Summary,
)


def _stamp(when: dt.datetime | None, zone) -> str:
    return f"{when.astimezone(zone):%m/%d/%Y %H:%M %Z}" if when else "-"


def _paragraphs(pdf: DocumentPDF, texts: list[str]) -> None:
    pdf.set_font("Helvetica", size=10)
    for text in texts:
        pdf.multi_cell(0, 5, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)


def _title(pdf: DocumentPDF, title: str, subtitle: str) -> None:
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=15)
    pdf.multi_cell(0, 8, pdf_text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 5, pdf_text(subtitle), new_x="LMARGIN", new_y="NEXT")


def _signature(pdf: DocumentPDF, consent, zone) -> None:
    pdf.heading(_("Signature"))
    via = consent.get_signed_via_display() if consent.signed_via else "-"
    pdf.pairs([
        (_("Signed by"), consent.signer_name), (_("Authority"), consent.signer_authority),
        (_("Signed at"), _stamp(consent.signed_at, zone)), (_("How"), via),
        (_("IP address"), consent.signed_ip or "-"), (_("Device"), (consent.signed_user_agent or "-")[:60]),
    ])


def _practice_address(practice) -> str:
    return ", ".join(p for p in (practice.street, practice.city,
                                 f"{practice.state} {practice.postal_code}".strip()) if p)


def authorization_pdf(authorization: DisclosureAuthorization) -> bytes:
    practice, patient = authorization.practice, authorization.patient
    template = TEMPLATES[authorization.template]
    zone = practice.zone
    with translation.override(authorization.signed_language or "en"):
        pdf = DocumentPDF(str(template.title))
        _title(pdf, str(template.title), _("45 CFR 164.508 authorization, #%(number)s") % {"number": authorization.pk})
        pdf.heading(_("Patient"))
        pdf.pairs([(_("Name"), f"{patient.first_name} {patient.last_name}"),
                   (_("Born"), pdf_date(patient.date_of_birth))])
        pdf.heading(_("Who discloses"))
        pdf.pairs([(_("Practice"), practice.name), (_("Address"), _practice_address(practice)),
                   (_("Phone"), practice.phone), (_("Email"), practice.email)])
        pdf.heading(_("Who receives"))
        contacts = [f"{c.name}, {c.get_role_display()}, {c.email}" for c in authorization.recipient_contacts.all()]
        rows = []
        if authorization.recipient_school_id:
            rows.append((_("School"), authorization.recipient_school.name))
        if authorization.recipient_district:
            rows.append((_("District"), authorization.recipient_district))
        rows += [(_("Contact"), c) for c in contacts]
        pdf.pairs(rows, columns=1)
        pdf.heading(_("What information"))
        categories = ", ".join(str(InfoCategory(c).label) for c in authorization.categories)
        span = (f"{pdf_date(authorization.records_from)} - {pdf_date(authorization.records_to)}"
                if authorization.records_from or authorization.records_to else _("all dates"))
        pdf.pairs([(_("Records"), categories), (_("Dates of records"), span),
                   (_("Purpose"), authorization.purpose),
                   (_("Expires"), pdf_date(authorization.expires_on) if authorization.expires_on
                    else authorization.expiry_event),
                   (_("Delivery"), authorization.get_delivery_display())], columns=1)
        if template.sensitive:
            pdf.heading(_("Sensitive information (included only where initialled)"))
            pdf.pairs([(str(label), authorization.sensitive_initials.get(key) or _("not included"))
                       for key, label in template.sensitive], columns=1)
        pdf.heading(_("Your rights"))
        _paragraphs(pdf, [str(s) % {"practice": practice.name} for s in template.statements])
        if template.state_clauses:
            _paragraphs(pdf, [str(s) for s in template.state_clauses])
        _signature(pdf, authorization, zone)
        return bytes(pdf.output())


def ferpa_pdf(consent: FerpaConsent) -> bytes:
    practice, patient = consent.practice, consent.patient
    with translation.override(consent.signed_language or "en"):
        title = _("Consent for a school to release education records (FERPA)")
        pdf = DocumentPDF(title)
        _title(pdf, title, _("34 CFR 99.30 consent, #%(number)s") % {"number": consent.pk})
        pdf.heading(_("Student"))
        pdf.pairs([(_("Name"), f"{patient.first_name} {patient.last_name}"),
                   (_("Born"), pdf_date(patient.date_of_birth))])
        pdf.heading(_("Release"))
        records = ", ".join(str(FerpaRecord(r).label) for r in consent.records)
        pdf.pairs([(_("From"), consent.school.name), (_("To"), f"{practice.name}, {_practice_address(practice)}"),
                   (_("Records"), records), (_("Purpose"), consent.purpose)], columns=1)
        _paragraphs(pdf, [str(s) % {"school": consent.school.name, "practice": practice.name}
                          for s in FERPA_STATEMENTS])
        _signature(pdf, consent, practice.zone)
        return bytes(pdf.output())


def summary_pdf(summary: Summary) -> bytes:
    practice, patient, data = summary.practice, summary.patient, summary.prefilled
    therapist = summary.therapist
    profile = getattr(therapist, "therapist_profile", None)
    author = f"{therapist.get_full_name()}{', ' + profile.credentials if profile and profile.credentials else ''}"
    pdf = DocumentPDF(f"Clinical summary - {patient.last_name}, {patient.first_name}")
    _title(pdf, "Clinical summary for the school team",
           f"From an outside provider: {practice.name}. Written by {author}.")
    pdf.set_font("Helvetica", style="I", size=9)
    pdf.multi_cell(0, 4.5, pdf_text(
        "This summary comes from a private therapy practice, not from the school. It is shared with the "
        "family's written authorization and is for the student's IEP/504 team."), new_x="LMARGIN", new_y="NEXT")
    pdf.heading("Student")
    demo = data.get("demographics", {})
    pdf.pairs([("Name", demo.get("name")), ("Born", demo.get("born")), ("School", demo.get("school")),
               ("Grade", demo.get("grade")), ("Period", f"{pdf_date(summary.period_from)} - "
                                                         f"{pdf_date(summary.period_to)}"),
               ("Prepared", pdf_date(summary.signed_at.date() if summary.signed_at else None))])
    pdf.heading("Diagnoses")
    pdf.pairs([("Diagnoses", "; ".join(data.get("diagnoses", [])) or "-")], columns=1)
    pdf.heading("Plan-of-care goals")
    for plan in data.get("plans", []):
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(0, 5, pdf_text(plan.get("label", "")), new_x="LMARGIN", new_y="NEXT")
        _paragraphs(pdf, [f"- {goal}" for goal in plan.get("goals", [])] or ["-"])
    pdf.heading("Attendance")
    att = data.get("attendance", {})
    pdf.pairs([("Attended", att.get("attended", 0)), ("Cancelled", att.get("cancelled", 0)),
               ("No-show", att.get("no_show", 0)), ("Scheduled", att.get("scheduled", 0))])
    adherence = data.get("adherence")
    if adherence:
        pdf.heading("Home-program adherence")
        pdf.pairs([(row.get("label", ""), row.get("value", "")) for row in adherence], columns=1)
    pdf.heading("Progress")
    _paragraphs(pdf, summary.progress.splitlines() or ["-"])
    pdf.heading("Recommendations for the school team")
    _paragraphs(pdf, summary.recommendations.splitlines() or ["-"])
    pdf.heading("Signature")
    pdf.pairs([("Signed by", summary.signed_name), ("Signed at", _stamp(summary.signed_at, practice.zone))])
    return bytes(pdf.output())


def disclosure_record_pdf(patient, disclosures: list[Disclosure], *, today: dt.date) -> bytes:
    practice = patient.practice
    pdf = DocumentPDF(f"Record of disclosures - {patient.last_name}, {patient.first_name}")
    _title(pdf, "Record of disclosures to schools",
           f"{patient.first_name} {patient.last_name}, born {pdf_date(patient.date_of_birth)} - {practice.name}")
    pdf.set_font("Helvetica", style="I", size=9)
    pdf.multi_cell(0, 4.5, pdf_text(
        "Kept as good practice. Disclosures made under a patient's authorization are exempt from the HIPAA "
        f"accounting of disclosures (45 CFR 164.528(a)(1)(iv)). Printed {pdf_date(today)}."),
        new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rows = [[_stamp(d.created_at, practice.zone), f"{d.contact.name}, {d.contact.organization} <{d.to_address}>",
             d.description, d.purpose, d.sent_by, d.status_label(practice.zone)] for d in disclosures]
    pdf.grid(["Date", "Recipient", "Description", "Purpose", "Sent by", "Status"],
             rows or [["-", "No disclosures recorded", "", "", "", ""]], widths=(22, 40, 32, 30, 22, 34))
    return bytes(pdf.output())
