from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "pedsdesk.audit"
    label = "audit"
    verbose_name = "Audit log"
