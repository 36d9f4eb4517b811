from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "pedsdesk.schools"
    label = "schools"
    verbose_name = "Schools"
