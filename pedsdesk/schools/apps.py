from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "pedsdesk.schools"
    label = "schools"
    verbose_name = "Schools"

    def ready(self) -> None:
        # Message kinds, task rules, demo records, page sections and the outbox's
        # disclosure gate, in every process (web, worker, sweeps, tests).
        from pedsdesk.messaging.delivery import PRE_SEND_CHECKS
        from pedsdesk.people.chart import chart_section
        from pedsdesk.portal.sections import portal_section
        from pedsdesk.schools import demo, interop, messages, rules, sections  # noqa: F401
        from pedsdesk.schools.actions import pre_send_check
        from pedsdesk.schools.family import consent_section
        from pedsdesk.schools.queries import chart_summary

        if pre_send_check not in PRE_SEND_CHECKS:
            PRE_SEND_CHECKS.append(pre_send_check)
        portal_section("school-forms", template="schools/family/section.html", order=5)(consent_section)
        chart_section("school", template="schools/_chart_section.html", order=70)(chart_summary)
