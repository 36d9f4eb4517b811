from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "pedsdesk.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from pedsdesk.audit import checks, tasks  # noqa: F401 -- the deploy check and the checkpoint sweeps
        from pedsdesk.audit.reads import note_reads

        note_reads()
