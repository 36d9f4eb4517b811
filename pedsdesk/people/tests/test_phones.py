import phonenumbers
import pytest

from pedsdesk.people.phones import display_phone, normalize_phone


@pytest.mark.parametrize("raw", ["512-555-0142", "(907) 555 0100", "+1 416 555 0199", "+1 868 221 1234"])
def test_north_american_numbers_read_as_the_desk_dials_them(raw):
    e164 = normalize_phone(raw)
    national = phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)
    assert display_phone(e164) == national
    assert display_phone(e164).startswith("(") and display_phone(e164)[-5] == "-"


def test_other_numbers_keep_their_country_code():
    assert display_phone(normalize_phone("+52 55 1234 5678")) == "+52 55 1234 5678"
    assert display_phone("") == ""
