from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "pedsdesk.interop"
    label = "interop"
    verbose_name = "EMR imports and exports"

    def ready(self) -> None:
        # The daily folder sweep and the worker task for uploads, in every process.
        from pedsdesk.interop import tasks  # noqa: F401
