from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "pedsdesk.scheduling"
    label = "scheduling"
    verbose_name = "Schedule"

    def ready(self) -> None:
        from pedsdesk.scheduling.actions import AFTER_CANCELLATION
        from pedsdesk.scheduling.offers import refill_after_cancellation

        if refill_after_cancellation not in AFTER_CANCELLATION:
            AFTER_CANCELLATION.append(refill_after_cancellation)
