from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "pedsdesk.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Every app's tasks.py registers its sweeps: load them in every process (web,
        # worker, `pedsdesk sweep`, tests), so the registry is the same everywhere.
        autodiscover_modules("tasks")
        from pedsdesk.operations import figures  # noqa: F401
