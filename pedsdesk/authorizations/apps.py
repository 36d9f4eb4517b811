from django.apps import AppConfig


class AuthorizationsConfig(AppConfig):
    name = "pedsdesk.authorizations"
    label = "authorizations"
    verbose_name = "Authorizations"

    def ready(self) -> None:
        from pedsdesk.authorizations.guard import authorization_guard, read_for_batch
        from pedsdesk.scheduling.actions import BATCH_READERS, BOOKING_GUARDS

        if authorization_guard not in BOOKING_GUARDS:
            BOOKING_GUARDS.append(authorization_guard)
        if read_for_batch not in BATCH_READERS:
            BATCH_READERS.append(read_for_batch)
        from pedsdesk.authorizations.sections import visit_coverage
        from pedsdesk.scheduling.sections import VISIT_COVERAGE

        if visit_coverage not in VISIT_COVERAGE:
            VISIT_COVERAGE.append(visit_coverage)
        # The daily sweep, and the sections of the chart and Today, are registered in every
        # process (web, worker, `pedsdesk sweep`, tests).
        from pedsdesk.authorizations import figures, sections, tasks  # noqa: F401

        figures.connect()
