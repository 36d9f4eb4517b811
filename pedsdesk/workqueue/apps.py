from django.apps import AppConfig


class WorkqueueConfig(AppConfig):
    name = "pedsdesk.workqueue"
    label = "workqueue"
    verbose_name = "Work queue"

    def ready(self) -> None:
        # Register the rules, sweeps and the Today page's task section in every process (web,
        # worker, `pedsdesk sweep`, tests), not only where huey happens to import tasks modules.
        from pedsdesk.workqueue import sections, tasks  # noqa: F401
