"""API shapes shared by every app, and the staff shapes."""

from typing import Annotated, Generic, TypeVar

from ninja import Field, Schema
from pydantic import ConfigDict

T = TypeVar("T")


class InputSchema(Schema):
    """Base of request bodies: unknown fields are refused (a typo would otherwise be
    silently ignored) and choices arrive as their plain string values."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, invalid, conflict.")
    message: str = Field(description="What went wrong and what to fix, for a person.")
    fields: dict[str, list[str]] | None = Field(
        None, description="For invalid input: messages per field, e.g. {\"date_of_birth\": [\"...\"]}."
    )


# Far beyond any practice's row count, and small enough that OFFSET never overflows.
Offset = Annotated[int, Field(ge=0, le=1_000_000_000, description="Rows to skip, 0 to 1,000,000,000.")]


class Paging(Schema):
    limit: int = Field(50, ge=1, le=200, description="Rows per page, 1 to 200.")
    offset: Offset = 0


class Search(Paging):
    q: str = Field("", max_length=100, description="Words to search for; every word must match.")


class Page(Schema, Generic[T]):
    count: int = Field(description="Rows matching, across all pages.")
    limit: int
    offset: int
    items: list[T]


class StaffRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.get_full_name() or obj.username


class TherapistOut(Schema):
    discipline: str
    credentials: str
    npi: str


class StaffOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    is_active: bool
    therapist: TherapistOut | None = None

    @staticmethod
    def resolve_therapist(obj) -> object | None:
        # select_related("therapist_profile") makes this free; absent profile is None.
        return getattr(obj, "therapist_profile", None)


class PracticeOut(Schema):
    id: int
    name: str
    time_zone: str
    npi: str


class MeOut(StaffOut):
    practice: PracticeOut
    permissions: list[str] = Field(description="Permissions this account holds; each endpoint names the one it needs.")
