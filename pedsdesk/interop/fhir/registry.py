"""Resources other apps add to a child's FHIR export (home programs as CarePlan, school
disclosure authorizations as Consent), so the export never imports those apps.

    from pedsdesk.interop.fhir.registry import fhir_resources

    @fhir_resources("hep.home_programs")
    def home_programs(*, patient) -> list[dict]:
        return [{"resourceType": "CarePlan", ...}]

Register from your AppConfig.ready. Each resource is checked against FHIR R4 (both
layers, see validation.py) before it leaves; stamp ``meta`` with
``pedsdesk.interop.fhir.export.META``. Point at the child with
``{"reference": f"Patient/{patient.pk}"}`` (the export's Patient id), and give ids your
own prefix (``hep-12``): the export's own CarePlans are ``plan-<pk>``, and a bundle with two
resources of one type and id is refused. A Consent for a disclosure authorization carries
policyRule ``hipaa-auth``, the period, the recipient as an actor, and status ``inactive``
once revoked.
"""

from collections.abc import Callable

_CONTRIBUTORS: dict[str, Callable[..., list[dict]]] = {}


def fhir_resources(name: str) -> Callable:
    def register(function: Callable[..., list[dict]]) -> Callable[..., list[dict]]:
        _CONTRIBUTORS[name] = function
        return function

    return register


def contributed(*, patient) -> list[dict]:
    resources: list[dict] = []
    for name in sorted(_CONTRIBUTORS):
        resources += _CONTRIBUTORS[name](patient=patient)
    return resources
