from django.apps import AppConfig


class HepConfig(AppConfig):
    name = "pedsdesk.hep"
    label = "hep"
    verbose_name = "Home exercise programs"

    def ready(self) -> None:
        # Message kinds, the visit-reminder addition, task rules, sweeps, demo records, the
        # FHIR CarePlans and the export log, registered with the registries the platform
        # reads (it never imports hep).
        from pedsdesk.hep import demo, exports, followups, messages, rules, sections, sweeps  # noqa: F401
        from pedsdesk.hep.queries import summary_adherence
        from pedsdesk.practices.settings_pages import settings_page
        from pedsdesk.schools.queries import register_adherence_source

        register_adherence_source(summary_adherence)
        settings_page("Home programs", "hep_settings", permission="hep_policy.edit",
                      description="When unopened programs are followed up, when families are asked how practice "
                                  "went, and what counts as low practice.")
