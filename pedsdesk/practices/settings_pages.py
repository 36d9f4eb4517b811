"""Settings pages of the apps, listed on the practice's settings page (the practice page
never imports them). An app registers its page from its AppConfig.ready::

    from pedsdesk.practices.settings_pages import settings_page

    settings_page("Home programs", "hep_settings", permission="hep_policy.edit",
                  description="When reminders go out and what counts as low practice.")
"""

from dataclasses import dataclass

from pedsdesk.practices.permissions import has_permission


@dataclass(frozen=True)
class SettingsPage:
    label: str
    url_name: str
    permission: str
    description: str = ""


_PAGES: dict[str, SettingsPage] = {}


def settings_page(label: str, url_name: str, *, permission: str, description: str = "") -> None:
    _PAGES[url_name] = SettingsPage(label, url_name, permission, description)


def settings_pages_for(user) -> list[SettingsPage]:
    """The registered settings pages ``user`` may change, by label."""
    return sorted((page for page in _PAGES.values() if has_permission(user, page.permission)),
                  key=lambda page: page.label)
