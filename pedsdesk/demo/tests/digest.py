"""A digest of every row the demo generator writes, independent of primary-key values
(which differ between databases and runs): keys and foreign keys become each row's
position within its table."""

import hashlib
import json

from django.db.models import Model, QuerySet

from pedsdesk.authorizations.models import BenefitBucket, Coverage, Payer
from pedsdesk.people.models import Diagnosis, Guardian, GuardianOf, Patient, PlanOfCare, PlanOfCareService
from pedsdesk.practices.models import Practice, StaffMember, TherapistProfile
from pedsdesk.schools.models import School, SchoolDay


def demo_tables(practice: Practice) -> list[tuple[type[Model], QuerySet]]:
    return [
        (Practice, Practice.objects.filter(pk=practice.pk)),
        (StaffMember, StaffMember.objects.filter(practice=practice)),
        (TherapistProfile, TherapistProfile.objects.filter(staff_member__practice=practice)),
        (School, School.objects.filter(practice=practice)),
        (SchoolDay, SchoolDay.objects.filter(school__practice=practice)),
        (Payer, Payer.objects.filter(practice=practice)),
        (Patient, Patient.objects.filter(practice=practice)),
        (Diagnosis, Diagnosis.objects.filter(patient__practice=practice)),
        (Guardian, Guardian.objects.filter(practice=practice)),
        (GuardianOf, GuardianOf.objects.filter(patient__practice=practice)),
        (Coverage, Coverage.objects.filter(patient__practice=practice)),
        (BenefitBucket, BenefitBucket.objects.filter(coverage__patient__practice=practice)),
        (PlanOfCare, PlanOfCare.objects.filter(patient__practice=practice)),
        (PlanOfCareService, PlanOfCareService.objects.filter(plan_of_care__patient__practice=practice)),
    ]


def demo_digest(practice: Practice) -> str:
    tables = demo_tables(practice)
    position = {
        model: {pk: i for i, pk in enumerate(qs.order_by("pk").values_list("pk", flat=True))} for model, qs in tables
    }
    digest = hashlib.sha256()
    for model, qs in tables:
        # When a row was last saved is the clock's, not the generator's.
        fields = [f for f in model._meta.concrete_fields if f.name != "updated_at"]
        for row in qs.order_by("pk").values(*[f.attname for f in fields]):
            out = {}
            for f in fields:
                value = row[f.attname]
                if f.primary_key:
                    value = position[model][value]
                elif f.is_relation and value is not None:
                    value = position[f.related_model][value]
                out[f.attname] = value
            digest.update(model._meta.label.encode())
            digest.update(json.dumps(out, sort_keys=True, default=str).encode())
    return digest.hexdigest()
