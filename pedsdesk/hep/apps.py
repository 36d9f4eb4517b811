from django.apps import AppConfig


class HepConfig(AppConfig):
    name = "pedsdesk.hep"
    label = "hep"
    verbose_name = "Home exercise programs"

    def ready(self) -> None:
        # Message kinds, the visit-reminder addition, task rules, sweeps and demo records,
        # registered with the registries the platform reads (it never imports hep).
        from pedsdesk.hep import demo, followups, messages, rules, sections, sweeps  # noqa: F401
        from pedsdesk.hep.queries import summary_adherence
        from pedsdesk.schools.queries import register_adherence_source

        register_adherence_source(summary_adherence)
