from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "pedsdesk.people"
    label = "people"
    verbose_name = "Patients and guardians"
