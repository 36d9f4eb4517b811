"""``pedsdesk export fhir --patient ID > bundle.json``: a child's record as a FHIR R4 Bundle."""

import json

from django.core.management.base import BaseCommand, CommandError

from pedsdesk.interop.fhir.export import patient_bundle
from pedsdesk.people.models import Patient


class Command(BaseCommand):
    help = "Export a child's record as a FHIR R4 (4.0.1) Bundle on standard output."

    def add_arguments(self, parser):
        parser.add_argument("format", choices=["fhir"])
        parser.add_argument("--patient", type=int, required=True, help="The patient's id in pedsdesk.")

    def handle(self, *args, **options):
        patient = Patient.objects.filter(pk=options["patient"]).select_related("practice").first()
        if patient is None:
            raise CommandError(f"No patient {options['patient']}.")
        bundle = patient_bundle(patient=patient, actor="pedsdesk export (command line)")
        self.stdout.write(json.dumps(bundle, indent=2, ensure_ascii=False))
