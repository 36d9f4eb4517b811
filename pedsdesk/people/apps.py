from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "pedsdesk.people"
    label = "people"
    verbose_name = "Patients and guardians"

    def ready(self) -> None:
        from pedsdesk.people import sections  # noqa: F401  (the Today page's practice figures)
