"""Reports for other systems and spreadsheets.

    pedsdesk report authorizations --format json    # one object per authorization, lines included
    pedsdesk report authorizations --format csv     # for spreadsheets
    pedsdesk report hep --format table              # and every report another app registered
"""

from pedsdesk import reports
from pedsdesk.authorizations.management.commands.authorizations import Command as AuthorizationsCommand


class Command(AuthorizationsCommand):
    help = ("Print a report: `authorizations` (with --format table|csv|json, --flag, --show, --today), or one "
            "another app registered in pedsdesk.reports (--format, --practice).")

    def add_arguments(self, parser):
        parser.add_argument("subject", choices=["authorizations", *sorted(reports.registered())])
        self.add_report_options(parser)

    def handle(self, *args, subject: str, **options):
        if subject == "authorizations":
            return super().handle(*args, operation="report", **options)
        spec = reports.registered()[subject]
        reports.write(spec, spec.rows(self._practice(options["practice"])), options["format"], self.stdout)
