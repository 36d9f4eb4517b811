from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "pedsdesk.interop"
    label = "interop"
    verbose_name = "EMR imports and exports"
