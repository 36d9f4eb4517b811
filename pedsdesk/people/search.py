"""The normalised search text of people: accents folded, lower case, phone digits.

Pure Python, no Django: the models keep ``search_text`` up to date on save from these
functions, and searches fold the query the same way, so SQLite and PostgreSQL match the
same rows with a plain ``contains`` (no database-specific collation or extension).
"""

import re
import unicodedata

MAX_QUERY = 100  # characters: longer is not a name or a phone number
MIN_PHONE_DIGITS = 4  # fewer digits in a query are part of a name or nothing, not a phone
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_PHONE_LIKE = re.compile(r"^[\d\s().+\-]+$")


class SearchError(ValueError):
    """A query that cannot be searched; the message says what to type instead."""


def fold(text: str) -> str:
    """"José Pérez-Núñez" -> "jose perez nunez": accents off, lower case, words only."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def digits(phone: str) -> str:
    return "".join(c for c in phone or "" if c.isdigit())


def phone_forms(phone: str) -> list[str]:
    """The digits a person may type for a stored number: "+15125550142" is found as
    "15125550142" and "5125550142"."""
    number = digits(phone)
    if not number:
        return []
    return [number, number[1:]] if number.startswith("1") and len(number) == 11 else [number]


def search_text(*parts: str, phones: tuple[str, ...] = ()) -> str:
    words = fold(" ".join(p for p in parts if p))
    return " ".join([words, *[form for phone in phones for form in phone_forms(phone)]]).strip()


def terms(query: str) -> list[str]:
    """The terms every match must contain. A query that looks like a phone number in any
    format is one term of its digits; anything else is its folded words."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY:
        raise SearchError(f"Search with at most {MAX_QUERY} characters: part of a name or a phone number.")
    if _PHONE_LIKE.match(query) and len(digits(query)) >= MIN_PHONE_DIGITS:
        number = digits(query)
        return [number[1:] if len(number) == 11 and number.startswith("1") else number]
    words = fold(query).split()
    if query and not words:
        raise SearchError("Type letters or digits: part of a child's or guardian's name, or a phone number.")
    return words
