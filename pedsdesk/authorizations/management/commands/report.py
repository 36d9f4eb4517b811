"""Reports for other systems and spreadsheets.

    pedsdesk report authorizations --format json    # one object per authorization, lines included
    pedsdesk report authorizations --format csv     # for spreadsheets
"""

from pedsdesk.authorizations.management.commands.authorizations import Command as AuthorizationsCommand


class Command(AuthorizationsCommand):
    help = "Print a report: `authorizations` (with --format table|csv|json, --flag, --show, --today)."

    def add_arguments(self, parser):
        parser.add_argument("subject", choices=["authorizations"])
        self.add_report_options(parser)

    def handle(self, *args, subject: str, **options):
        return super().handle(*args, operation="report", **options)
