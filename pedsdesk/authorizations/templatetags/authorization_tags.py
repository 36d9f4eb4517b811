from django import template

from pedsdesk.authorizations.queries import patient_authorizations as _patient_authorizations

register = template.Library()


@register.simple_tag
def patient_authorizations(patient) -> dict:
    """The chart's authorizations and benefit buckets, as of today in the practice."""
    return _patient_authorizations(patient, patient.practice.local_now().date())
