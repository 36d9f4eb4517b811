from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "pedsdesk.practices"
    label = "practices"
    verbose_name = "Practices and staff"
