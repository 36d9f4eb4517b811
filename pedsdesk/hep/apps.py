from django.apps import AppConfig


class HepConfig(AppConfig):
    name = "pedsdesk.hep"
    label = "hep"
    verbose_name = "Home exercise programs"
