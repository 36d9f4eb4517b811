import pytest

from conftest import make_staff
from pedsdesk.audit.models import AuditEvent
from pedsdesk.authorizations.models import Authorization, Coverage, Payer, ServiceLine
from pedsdesk.interop.models import ExternalId
from pedsdesk.people.models import Guardian, GuardianOf, Patient
from pedsdesk.practices.models import StaffMember
from pedsdesk.scheduling.models import Appointment, Offer, Opening

SAMPLES = __import__("pathlib").Path(__file__).resolve().parents[1] / "samples"
WATCHED = (Patient, Guardian, GuardianOf, Payer, Coverage, Authorization, ServiceLine, Appointment, Opening, Offer,
           ExternalId, StaffMember)


def snapshot() -> dict:
    """Every row an import could touch, to compare before and after a rejected import."""
    state = {model.__name__: sorted(model.objects.values_list("pk", flat=True)) for model in WATCHED}
    state["appointments"] = sorted(Appointment.objects.values_list("pk", "status", "start_at", "sequence"))
    state["audit"] = AuditEvent.objects.exclude(action="import").count()
    return state


@pytest.fixture
def dana(practice):
    """The OT the sample files call Dana Whitfield."""
    member = make_staff(practice, "dana", "therapist")
    member.last_name = "Whitfield"
    member.save(update_fields=["last_name"])
    return member
