"""Exports for the EMR and the billing office.

    pedsdesk export fhir --patient ID > bundle.json           # a child's record, FHIR R4 Bundle
    pedsdesk export authorizations --format xlsx -o auths.xlsx # the authorization report
    pedsdesk export schedule-changes --since 2026-11-23        # makeups booked, openings filled (CSV)
    pedsdesk export visits --start 2026-12-01 --end 2026-12-31 > visits.ics
"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from pedsdesk.interop.exports import export_file, reports, visits_ics
from pedsdesk.interop.fhir.export import patient_bundle
from pedsdesk.interop.queries import command_practice
from pedsdesk.people.models import Patient

ACTOR = "pedsdesk export (command line)"


class Command(BaseCommand):
    help = "Export a child's FHIR Bundle, a report as CSV or XLSX (cells safe from formulas), or visits as iCalendar."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["fhir", "visits", *reports()])
        parser.add_argument("--patient", type=int, help="fhir: the patient's id in pedsdesk.")
        parser.add_argument("--practice", type=int, help="Practice id (needed when there are several).")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--since", type=dt.date.fromisoformat, help="schedule-changes: from this date.")
        parser.add_argument("--start", type=dt.date.fromisoformat, help="visits: first day (YYYY-MM-DD).")
        parser.add_argument("--end", type=dt.date.fromisoformat, help="visits: last day (YYYY-MM-DD).")
        parser.add_argument("-o", "--output", help="Write to this file instead of standard output.")

    def handle(self, *args, what: str, **options):
        if what == "fhir":
            if not options["patient"]:
                raise CommandError("Say which child with --patient ID.")
            patient = Patient.objects.filter(pk=options["patient"]).select_related("practice").first()
            if patient is None:
                raise CommandError(f"No patient {options['patient']}.")
            data = json.dumps(patient_bundle(patient=patient, actor=ACTOR), indent=2, ensure_ascii=False).encode()
        elif what == "visits":
            practice = command_practice(options["practice"])
            today = practice.local_now().date()
            data = visits_ics(practice=practice, start=options["start"] or today,
                              end=options["end"] or today + dt.timedelta(days=30), actor=ACTOR)
        else:
            if options["format"] == "xlsx" and not options["output"]:
                raise CommandError("An XLSX file is binary: write it with --output FILE.")
            data = export_file(practice=command_practice(options["practice"]), name=what,
                               file_format=options["format"], actor=ACTOR, since=options["since"])
        if options["output"]:
            with open(options["output"], "wb") as handle:
                handle.write(data)
        else:
            self.stdout.write(data.decode("utf-8-sig"), ending="")
