"""API shapes of schools and their calendars."""

import datetime as dt

from ninja import Field, Schema


class SchoolOut(Schema):
    id: int
    name: str
    district: str
    is_preschool: bool
    start_time: dt.time
    dismissal_time: dt.time
    early_release_time: dt.time | None
    phone: str
    street: str
    city: str


class SchoolDayOut(Schema):
    date: dt.date
    kind: str = Field(description="no_school or early_release")
    note: str


class SchoolDetailOut(SchoolOut):
    calendar: list[SchoolDayOut] = Field(description="Days that differ from the usual bell schedule.")


class CalendarRange(Schema):
    calendar_from: dt.date | None = Field(None, description="Only calendar days on or after this date.")
    calendar_to: dt.date | None = Field(None, description="Only calendar days on or before this date.")
