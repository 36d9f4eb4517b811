"""Billing and diagnosis code rules, without Django, so any layer can use them.

CPT codes carry the disciplines that may bill them and whether they are timed
(15-minute units under the CMS 8-minute rule) or untimed (one unit per session).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

OT, PT, SLP = "OT", "PT", "SLP"


@dataclass(frozen=True)
class CptCode:
    code: str
    description: str
    disciplines: frozenset[str]
    timed: bool
    evaluation: bool = False


_CATALOG = [
    CptCode("97161", "PT evaluation, low complexity", frozenset({PT}), False, True),
    CptCode("97162", "PT evaluation, moderate complexity", frozenset({PT}), False, True),
    CptCode("97163", "PT evaluation, high complexity", frozenset({PT}), False, True),
    CptCode("97164", "PT re-evaluation", frozenset({PT}), False, True),
    CptCode("97165", "OT evaluation, low complexity", frozenset({OT}), False, True),
    CptCode("97166", "OT evaluation, moderate complexity", frozenset({OT}), False, True),
    CptCode("97167", "OT evaluation, high complexity", frozenset({OT}), False, True),
    CptCode("97168", "OT re-evaluation", frozenset({OT}), False, True),
    CptCode("92521", "Evaluation of speech fluency", frozenset({SLP}), False, True),
    CptCode("92522", "Evaluation of speech sound production", frozenset({SLP}), False, True),
    CptCode("92523", "Evaluation of speech sound production and language", frozenset({SLP}), False, True),
    CptCode("92524", "Behavioral and qualitative analysis of voice", frozenset({SLP}), False, True),
    CptCode("92610", "Evaluation of oral and pharyngeal swallowing", frozenset({SLP, OT}), False, True),
    CptCode("92507", "Treatment of speech, language, voice, communication", frozenset({SLP}), False),
    CptCode("92526", "Treatment of swallowing dysfunction / oral function for feeding", frozenset({SLP, OT}), False),
    CptCode("97110", "Therapeutic exercise", frozenset({PT, OT}), True),
    CptCode("97112", "Neuromuscular re-education", frozenset({PT, OT}), True),
    CptCode("97116", "Gait training", frozenset({PT}), True),
    CptCode("97140", "Manual therapy", frozenset({PT, OT}), True),
    CptCode("97530", "Therapeutic activities", frozenset({PT, OT}), True),
    CptCode("97533", "Sensory integrative techniques", frozenset({OT}), True),
    CptCode("97535", "Self-care / home management training", frozenset({OT, PT}), True),
    CptCode("97760", "Orthotic management and training", frozenset({PT, OT}), True),
]
CPT_CODES: dict[str, CptCode] = {c.code: c for c in _CATALOG}


class CodeError(ValueError):
    """A code a person typed that cannot be used; the message says what to fix."""


def cpt_for_discipline(code: str, discipline: str) -> CptCode:
    """The catalogue entry for ``code``, checked against the discipline that bills it."""
    code = code.strip()
    entry = CPT_CODES.get(code)
    if entry is None:
        raise CodeError(f"CPT code {code!r} is not one pedsdesk knows; use one of {', '.join(sorted(CPT_CODES))}.")
    if discipline not in entry.disciplines:
        allowed = "/".join(sorted(entry.disciplines))
        raise CodeError(f"CPT code {code} ({entry.description}) is billed by {allowed}, not {discipline}.")
    return entry


def unit_label(unit_type: str, cpt_codes: Iterable[str]) -> str:
    """How to name an authorization line's units: "15-minute units" only when every code
    on it is timed; an untimed code (92507, an evaluation) bills one unit a session."""
    if unit_type != "units":
        return "visits"
    timed = {CPT_CODES[code].timed for code in cpt_codes if code in CPT_CODES}
    if timed == {True}:
        return "15-minute units"
    if timed == {False}:
        return "units (one a session)"
    return "units (15 minutes each for timed codes, one a session for untimed)"


def codes_for_discipline(discipline: str) -> list[CptCode]:
    return [c for c in _CATALOG if discipline in c.disciplines]


_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")


def normalize_icd10(code: str) -> str:
    """Upper-case an ICD-10-CM code and insert the dot after the category if it was left out."""
    code = code.strip().upper().replace(" ", "")
    if len(code) > 3 and "." not in code:
        code = f"{code[:3]}.{code[3:]}"
    if not _ICD10.match(code):
        raise CodeError(
            f"{code or 'An empty code'} is not an ICD-10-CM code; codes look like F80.2 or R62.50 "
            "(a letter, two characters, then an optional dot and up to four more)."
        )
    return code


# Diagnoses common in pediatric therapy referrals, for pick lists and the demo practice.
COMMON_DIAGNOSES = {
    "F80.0": "Phonological disorder",
    "F80.1": "Expressive language disorder",
    "F80.2": "Mixed receptive-expressive language disorder",
    "F80.81": "Childhood onset fluency disorder",
    "F82": "Developmental coordination disorder",
    "F84.0": "Autistic disorder",
    "F88": "Other disorders of psychological development",
    "F90.2": "ADHD, combined type",
    "G80.1": "Spastic diplegic cerebral palsy",
    "Q90.9": "Down syndrome, unspecified",
    "R62.0": "Delayed milestone in childhood",
    "R62.50": "Unspecified lack of expected normal physiological development",
    "R27.8": "Other lack of coordination",
    "R63.3": "Feeding difficulties",
    "M62.81": "Muscle weakness (generalized)",
    "R26.89": "Other abnormalities of gait and mobility",
    "Q66.89": "Other congenital deformities of feet",
    "H90.3": "Sensorineural hearing loss, bilateral",
}


def units_for_minutes(code: str, minutes: int) -> int:
    """Billable units for one code in one session.

    Timed codes follow the CMS 8-minute rule for a single code: 8-22 minutes is one
    unit, each further 15 minutes (with 8 or more left) one more. Untimed codes bill
    one unit per session.
    """
    if minutes <= 0:
        return 0
    entry = CPT_CODES.get(code)
    if entry is None or not entry.timed:
        return 1
    if minutes < 8:
        return 0
    return (minutes + 7) // 15
