"""Phone numbers, normalised to E.164 with the phonenumbers library."""

import phonenumbers
from django.core.exceptions import ValidationError


def normalize_phone(raw: str, region: str = "US") -> str:
    """Return the E.164 form of ``raw`` or raise a ValidationError that says what to fix."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            f"{raw!r} is not a phone number; enter 10 digits like (512) 555-0142 or +1 512 555 0142."
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"{raw!r} is not a valid phone number; check the area code and the number of digits.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    if not e164:
        return ""
    if len(e164) == 12 and e164.startswith("+1") and e164[1:].isdigit():
        # A North American number, written as phonenumbers' national format writes every
        # one of them, without parsing it: lists show thousands (a big practice's day).
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    number = phonenumbers.parse(e164, None)
    if number.country_code == 1:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
