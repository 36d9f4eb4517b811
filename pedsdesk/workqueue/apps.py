from django.apps import AppConfig


class WorkqueueConfig(AppConfig):
    name = "pedsdesk.workqueue"
    label = "workqueue"
    verbose_name = "Work queue"
