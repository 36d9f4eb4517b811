from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "pedsdesk.scheduling"
    label = "scheduling"
    verbose_name = "Schedule"
