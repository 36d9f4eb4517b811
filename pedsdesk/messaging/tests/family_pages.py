"""Messaging's own kinds in the family time-and-language test (see
pedsdesk/portal/tests/family_surfaces.py)."""

from pedsdesk.portal.tests.family_surfaces import Example, FamilyWorld, message_context, timeless_kinds

timeless_kinds("help_reply", "opt_out_confirmation", "opt_in_confirmation", "contact_test", "notice")


@message_context("portal_link")
def _portal_link(world: FamilyWorld) -> Example:
    return Example({"url": world.family_url(), "child_first_name": "Ava"}, [])


@message_context("daily_digest")
def _digest(world: FamilyWorld) -> Example:
    return Example({"tasks": [{"title": "Call Rosa", "due": world.before, "url": "/tasks/1/"}],
                    "date": world.after.date()}, [world.before])
