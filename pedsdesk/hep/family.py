"""How a program reads for the family, in the active language: the portal section, the
therapist's preview and the printable page all use ``program_view``."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pedsdesk import local_time
from pedsdesk.files.links import signed_url
from pedsdesk.files.models import StoredFile
from pedsdesk.hep.actions import feedback_window_start, max_days, preference_of
from pedsdesk.hep.models import Activity, HomeProgram, ProgramItem, Rating

PICTURE_LINK = dt.timedelta(days=7)


@dataclass
class FamilyActivity:
    item_id: int | None
    title: str
    steps: list[str]
    watch: str
    dose: str
    video_url: str
    picture_url: str = ""
    #: the child's own photo (ProgramItem.photo): its signed link, and the file for the printout
    photo_url: str = ""
    photo: StoredFile | None = None


def dose_text(*, repetitions: int | None, sets: int | None, minutes: int | None, days_per_week: int) -> str:
    parts = []
    if repetitions:
        parts.append(ngettext("%(n)d time", "%(n)d times", repetitions) % {"n": repetitions})
    if sets:
        parts.append(ngettext("%(n)d set", "%(n)d sets", sets) % {"n": sets})
    if minutes:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    parts.append(ngettext("%(n)d day a week", "%(n)d days a week", days_per_week) % {"n": days_per_week})
    return " · ".join(parts)


def family_activity(activity: Activity, language: str, *, item_id: int | None = None, repetitions=None,
                    sets=None, minutes=None, days_per_week: int = 5, picture_url: str = "") -> FamilyActivity:
    return FamilyActivity(item_id, activity.title_in(language), activity.steps_in(language),
                          activity.watch_in(language),
                          dose_text(repetitions=repetitions, sets=sets, minutes=minutes, days_per_week=days_per_week),
                          activity.video_url, picture_url)


def shown(stored: StoredFile | None) -> StoredFile | None:
    return None if stored is None or stored.discarded_at else stored


def picture_link(stored: StoredFile | None, guardian_id: int) -> str:
    """A signed link to a picture for this guardian, good for a week."""
    if shown(stored) is None:
        return ""
    return signed_url(stored, audience=f"guardian {guardian_id}", valid_for=PICTURE_LINK)


def item_activities(items: list[ProgramItem], language: str, guardian_id: int) -> list[FamilyActivity]:
    activities = []
    for item in items:
        activity = family_activity(item.activity, language, item_id=item.pk, repetitions=item.repetitions,
                                   sets=item.sets, minutes=item.minutes, days_per_week=item.days_per_week,
                                   picture_url=picture_link(item.activity.picture, guardian_id))
        activity.photo, activity.photo_url = shown(item.photo), picture_link(item.photo, guardian_id)
        activities.append(activity)
    return activities


def ratings() -> list[tuple[str, str]]:
    return [(Rating.EASY, _("Easy")), (Rating.OKAY, _("Okay")), (Rating.HARD, _("Hard")),
            (Rating.NOT_TRIED, _("Did not try"))]


def program_view(*, activities: list[FamilyActivity], note: str, child: str, updated: dt.datetime | None,
                 zone) -> dict:
    return {
        "activities": activities, "note": note, "child": child,
        "updated": local_time.day(updated, zone) if updated else "",
    }


def portal_program(page, language: str) -> dict | None:
    """The portal section: the current program, the feedback form and the reminder choice."""
    program = (HomeProgram.objects.filter(patient=page.patient).select_related("current_version").first())
    version = program.current_version if program else None
    if version is None:
        return None
    items = list(version.items.select_related("activity__picture", "photo"))
    now = page.practice.local_now()
    start = feedback_window_start(version, page.patient.pk)
    preference = preference_of(page.guardian)
    return {
        **program_view(activities=item_activities(items, language, page.guardian.pk), note=version.note,
                       child=page.child_name,
                       updated=version.sent_at or version.created_at, zone=page.practice.zone),
        "program": program, "version": version.number, "form_id": uuid.uuid4().hex, "ratings": ratings(),
        "days": range(0, max_days(start, now) + 1),
        "since": local_time.day(start, page.practice.zone),
        "reminder_time": preference.reminder_time if preference else None,
        "reminders_off": bool(preference and preference.reminders_off),
    }
