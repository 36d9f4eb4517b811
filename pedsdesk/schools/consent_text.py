"""The words of the consent forms, in original wording, translated like every other string.

Two authorization templates: a general one with the elements 45 CFR 164.508(c) requires,
and a stricter one whose structure follows New York's OCA Official Form No. 960
(separate initials for alcohol or drug treatment, mental health and HIV-related
information, and a statement that signing is voluntary). A state template adds its
clauses and its sensitive categories; the family includes a sensitive category only by
initialling it. The FERPA consent (34 CFR 99.30) is for the school's records coming to
the practice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ConsentTemplate:
    key: str
    title: Promise
    statements: list[Promise]
    #: (key, label): included only when the family initials it
    sensitive: list[tuple[str, Promise]] = field(default_factory=list)
    state_clauses: list[Promise] = field(default_factory=list)


_REQUIRED = [
    _("You may revoke this authorization at any time by telling %(practice)s in writing (a letter, or the "
      "revoke button on your family page). Revoking stops future disclosures; it cannot undo a disclosure "
      "already made."),
    _("Your child's treatment, payment, enrollment or eligibility for benefits does not depend on whether "
      "you sign this form."),
    _("Once information is disclosed to the school, it may be re-disclosed by the recipient and may no longer "
      "be protected by federal health-privacy rules. Schools usually keep it under the education-records law "
      "(FERPA)."),
    _("Psychotherapy notes are never disclosed under this form."),
]

GENERAL = ConsentTemplate(
    key="general_us",
    title=_("Authorization to disclose health information to a school"),
    statements=_REQUIRED,
)

NEW_YORK = ConsentTemplate(
    key="new_york",
    title=_("Authorization to disclose health information to a school (New York)"),
    statements=[
        *_REQUIRED,
        _("Signing this form is voluntary. You may ask for a copy of it."),
    ],
    sensitive=[
        ("alcohol_drug", _("Information about alcohol or drug treatment")),
        ("mental_health", _("Mental health information")),
        ("hiv", _("Confidential HIV-related information")),
    ],
    state_clauses=[
        _("Under New York law, confidential HIV-related information may be re-disclosed only as New York Public "
          "Health Law Article 27-F allows. If you do not initial a category above, that information is left "
          "out."),
        _("If you feel your rights have been violated you may contact the New York State Division of Human "
          "Rights."),
    ],
)

TEMPLATES = {t.key: t for t in (GENERAL, NEW_YORK)}

FERPA_STATEMENTS = [
    _("I consent to %(school)s releasing the records listed below about my child to %(practice)s for the "
      "purpose stated."),
    _("I may revoke this consent in writing at any time; revoking does not undo a release already made."),
    _("I understand I may have a copy of the records released."),
]
