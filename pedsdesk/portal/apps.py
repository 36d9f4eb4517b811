from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "pedsdesk.portal"
    label = "portal"
    verbose_name = "Family portal"
