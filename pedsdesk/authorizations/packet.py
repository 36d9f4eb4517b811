"""The renewal packet: a pre-filled PDF the front desk sends to the payer.

Drawn with pedsdesk.pdf (fpdf2, Latin-1 Helvetica).
"""

import datetime as dt

from pedsdesk.authorizations.models import Renewal
from pedsdesk.authorizations.queries import attendance, summary_of
from pedsdesk.pdf import DocumentPDF as _Packet
from pedsdesk.pdf import pdf_date as _date
from pedsdesk.pdf import pdf_text as _text
from pedsdesk.people.models import PlanOfCare


def renewal_packet(renewal: Renewal, *, today: dt.date) -> bytes:
    """The packet as PDF bytes: cover sheet, patient and coverage, the request, utilization
    to date, and the progress summary (plan-of-care goals, attendance)."""
    a = renewal.authorization
    coverage, payer = a.coverage, a.coverage.payer
    patient = coverage.patient
    practice = patient.practice
    summary = summary_of(a, today)
    plan = (PlanOfCare.objects.filter(patient=patient, discipline=a.discipline, start_date__lte=a.end_date)
            .select_related("therapist__therapist_profile").prefetch_related("services")
            .order_by("-end_date", "-pk").first())
    therapist = renewal.therapist or (plan.therapist if plan else None)
    profile = getattr(therapist, "therapist_profile", None) if therapist else None
    visits = attendance(a, today)
    unit = "visits" if summary.unit_type == "visits" else "15-min units"

    pdf = _Packet(f"Authorization renewal - {patient.last_name}, {patient.first_name}")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 9, "Prior authorization renewal request", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 5, _text(f"{a.get_discipline_display()} - continuing authorization #{a.number}"
                         f"{' - EXPEDITED REVIEW REQUESTED' if renewal.expedited else ''}"),
             new_x="LMARGIN", new_y="NEXT")

    pdf.heading("Cover sheet")
    address = ", ".join(p for p in (practice.street, practice.city,
                                    f"{practice.state} {practice.postal_code}".strip()) if p)
    send_to = {"fax": f"Fax {payer.fax}" if payer.fax else "Fax", "portal": payer.portal_url or "Payer portal",
               "electronic": "Electronic (X12 278)"}
    pdf.pairs([
        ("From", practice.name), ("To", payer.name),
        ("NPI", practice.npi), ("Payer ID", payer.payer_id),
        ("Address", address), ("Fax", payer.fax),
        ("Phone", practice.phone), ("Portal", payer.portal_url),
        ("Email", practice.email), ("Phone", payer.phone),
        ("Prepared", _date(today)), ("Send by", send_to.get(renewal.channel, "; ".join(v for v in (
            f"fax {payer.fax}" if payer.fax else "", payer.portal_url) if v) or "-")),
        ("Pages", "{nb}"), ("Submit by", _date(renewal.due_date)),
    ])

    pdf.heading("Patient and coverage")
    diagnoses = "; ".join(f"{d.code} {d.description}".strip() for d in patient.diagnoses.all())
    pdf.pairs([
        ("Patient", f"{patient.last_name}, {patient.first_name}"), ("Member ID", coverage.member_id),
        ("Born", _date(patient.date_of_birth)), ("Group", coverage.group_number),
        ("Subscriber", coverage.subscriber_name or f"{patient.first_name} {patient.last_name}"),
        ("Coverage", f"{coverage.get_priority_display()}, {payer.get_payer_type_display()}"),
        ("Therapist", f"{therapist.get_full_name()}, {profile.credentials}" if profile else therapist),
        ("Therapist NPI", profile.npi if profile else ""),
    ])
    pdf.pairs([("Diagnoses", diagnoses)], columns=1)

    pdf.heading("Request")
    pdf.pairs([
        ("Current authorization", f"#{a.number}, {_date(a.start_date)} to {_date(a.end_date)}"),
        ("Requested period", f"{_date(renewal.requested_start)} to {_date(renewal.requested_end)}"),
    ], columns=1)
    pdf.ln(2)
    pdf.grid(["CPT codes", "Modifier", "Unit", "Requested", "Per week", "Per month"],
             [[", ".join(line.cpt_codes), line.modifier or "-", line.get_unit_type_display(), line.requested_quantity,
               line.per_week_cap or "-", line.per_month_cap or "-"] for line in renewal.lines.all()],
             (34, 14, 22, 14, 12, 12))

    pdf.heading("Utilization to date")
    rows = []
    for line, figures in summary.line_rows:
        rows.append([", ".join(line.cpt_codes), line.quantity, figures.used if figures else 0,
                     figures.scheduled if figures else 0, figures.remaining if figures else line.quantity])
    pdf.grid(["CPT codes", "Authorized", "Used", "Scheduled", "Remaining"], rows, (40, 15, 15, 15, 15))
    pdf.ln(2)
    exhausted = (f"The schedule uses the last of the {unit} on {_date(summary.exhausted_on)}, before the "
                 f"authorization ends on {_date(a.end_date)}." if "runs_out" in summary.flags
                 else f"{summary.remaining} {unit} are left for the rest of the period.")
    pdf.multi_cell(0, 5, _text(f"As of {_date(today)}: {summary.used} of {summary.authorized} {unit} used, "
                               f"{summary.scheduled} scheduled. {exhausted}"), new_x="LMARGIN", new_y="NEXT")

    pdf.add_page()
    pdf.heading("Progress summary")
    if plan is not None:
        pdf.pairs([
            ("Plan of care", f"{plan.get_discipline_display()}, {plan.frequency_per_week}x a week, "
                             f"{plan.minutes} minutes"),
            ("Plan period", f"{_date(plan.start_date)} to {_date(plan.end_date)}"),
            ("Codes per visit", ", ".join(str(s) for s in plan.services.all())),
        ], columns=1)
        pdf.ln(2)
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(0, 6, "Goals", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for number, goal in enumerate(plan.goal_list, start=1):
            pdf.multi_cell(0, 5, _text(f"{number}. {goal}"), new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.multi_cell(0, 5, "No plan of care on file for this discipline.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", style="B", size=10)
    pdf.cell(0, 6, _text(f"Attendance {_date(a.start_date)} to {_date(min(today, a.end_date))}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    kept = visits["attended"]
    missed = visits["cancelled"] + visits["late_cancel"] + visits["no_show"]
    rate = f"{round(100 * kept / (kept + missed))}%" if kept + missed else "-"
    pdf.grid(["Attended", "Cancelled", "Late cancel", "No-show", "Still booked", "Attendance"],
             [[kept, visits["cancelled"], visits["late_cancel"], visits["no_show"], visits["upcoming"], rate]],
             (15, 15, 15, 15, 15, 15))

    pdf.heading("Documents enclosed")
    items = list(renewal.items.all())
    if items:
        pdf.grid(["Document", "Status"],
                 [[item.get_document_display(), f"enclosed ({_date(item.received_on)})" if item.done else "to follow"]
                  for item in items], (70, 30))
    else:
        pdf.multi_cell(0, 5, _text(f"{payer} asks for no documents beyond this request."),
                       new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.multi_cell(0, 5, _text(f"Prepared by {practice.name} with pedsdesk. Questions: {practice.phone or '-'}."),
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
