"""Authorization tools.

    pedsdesk authorizations report                       # every authorization, as a table
    pedsdesk authorizations report --flag runs_out       # only those that run out early
    pedsdesk authorizations report --format csv > authorizations.csv
    pedsdesk authorizations report --format json         # one object per authorization, lines included
    pedsdesk authorizations sweep                        # statuses and renewals due, now

The figures are the board's: the same query (``queries.board``) over the same schedule.
"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from pedsdesk.authorizations.queries import BOARD_SHOWS, FLAGS, REPORT_COLUMNS, board, flat_report_row, report_row
from pedsdesk.practices.models import Practice
from pedsdesk.sheets import write_csv


class Command(BaseCommand):
    help = "Authorization tools: `report` prints every authorization with its figures and flags; `sweep` runs " \
           "the daily status and renewal sweep now."

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["report", "sweep"])
        self.add_report_options(parser)

    @staticmethod
    def add_report_options(parser) -> None:
        parser.add_argument("--practice", type=int, help="Practice id (needed when there are several).")
        parser.add_argument("--flag", choices=sorted(FLAGS), help="Only authorizations with this flag.")
        parser.add_argument("--show", choices=BOARD_SHOWS, default="all",
                            help="current (as the board shows by default), ended, or all (default).")
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
        parser.add_argument("--today", type=dt.date.fromisoformat, help="Report as of this date (YYYY-MM-DD).")

    def handle(self, *args, operation: str, practice: int | None, flag: str | None, show: str, format: str,
               today: dt.date | None, **options):
        chosen = self._practice(practice)
        if operation == "sweep":
            from pedsdesk.authorizations.tasks import run_daily

            self.stdout.write(json.dumps(run_daily(practice=chosen, rules=True), default=str))
            return
        today = today or chosen.local_now().date()
        rows = [report_row(s) for s in board(chosen, today=today, flag=flag or "", show=show, sort="patient")]
        if format == "json":
            self.stdout.write(json.dumps(rows, indent=2))
        elif format == "csv":
            write_csv(REPORT_COLUMNS, (flat_report_row(row) for row in rows), self.stdout)
        else:
            self._table([flat_report_row(row) for row in rows])
            self.stdout.write(f"{len(rows)} authorization{'' if len(rows) == 1 else 's'} of {chosen} as of "
                              f"{today:%Y-%m-%d}.")

    def _practice(self, pk: int | None) -> Practice:
        practices = Practice.objects.order_by("pk")
        if pk is not None:
            found = practices.filter(pk=pk).first()
            if found is None:
                raise CommandError(f"No practice with id {pk}.")
            return found
        if practices.count() != 1:
            listing = ", ".join(f"{p.pk} ({p.name})" for p in practices) or "none"
            raise CommandError(f"Say which practice with --practice: {listing}.")
        return practices.get()

    def _table(self, rows: list[dict]) -> None:
        columns = ["patient", "payer", "number", "discipline", "unit", "authorized", "used", "scheduled",
                   "remaining", "end", "projected_exhaustion", "flags", "renewal_state"]
        titles = {"discipline": "disc", "authorized": "auth", "scheduled": "sched", "remaining": "left",
                  "projected_exhaustion": "runs out", "renewal_state": "renewal"}
        cells = [[titles.get(c, c) for c in columns]] + [[str(row[c]) for c in columns] for row in rows]
        widths = [min(max(len(r[i]) for r in cells), 32) for i in range(len(columns))]
        numeric = {"authorized", "used", "scheduled", "remaining"}
        for r in cells:
            self.stdout.write("  ".join((v[:32].rjust(w) if columns[i] in numeric else v[:32].ljust(w))
                                        for i, (v, w) in enumerate(zip(r, widths, strict=True))).rstrip())
