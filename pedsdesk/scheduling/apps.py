from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "pedsdesk.scheduling"
    label = "scheduling"
    verbose_name = "Schedule"

    def ready(self) -> None:
        # Message kinds, the reply handler, task rules and sweeps of confirmations and
        # attendance, its /metrics figure, and the schedule's sections of the chart, the family portal and Today,
        # in every process (web, worker, `pedsdesk sweep`, tests).
        from pedsdesk.practices.settings_pages import settings_page
        from pedsdesk.scheduling import attendance, confirmations, figures, sections  # noqa: F401
        from pedsdesk.scheduling.actions import AFTER_CANCELLATION
        from pedsdesk.scheduling.offers import refill_after_cancellation

        settings_page("Scheduling", "scheduling_settings", permission="scheduling_policy.edit",
                      description="Treatment hours, notice, offers of freed slots and visit reminders.")

        if refill_after_cancellation not in AFTER_CANCELLATION:
            AFTER_CANCELLATION.append(refill_after_cancellation)
