"""Deliver due messages in a loop, outside huey (the crash drill's worker, or a
dedicated sender process).

    pedsdesk deliver                 # one pass
    pedsdesk deliver --until-empty   # until nothing is queued or being sent
    pedsdesk deliver --forever       # poll every --interval seconds
"""

import time

from django.core.management.base import BaseCommand

from pedsdesk.messaging.delivery import deliver_due
from pedsdesk.messaging.models import Message, MessageState


class Command(BaseCommand):
    help = "Deliver due messages now (one pass, until the outbox is empty, or forever)."

    def add_arguments(self, parser):
        parser.add_argument("--until-empty", action="store_true", help="Repeat until nothing is pending.")
        parser.add_argument("--forever", action="store_true", help="Keep polling.")
        parser.add_argument("--batch", type=int, default=200, help="Messages per pass (default 200).")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between idle polls.")

    def handle(self, *args, until_empty: bool, forever: bool, batch: int, interval: float, **options):
        total = 0
        self.stdout.write("deliver: started")
        self.stdout.flush()
        while True:
            stats = deliver_due(limit=batch)
            total += stats.sent
            if stats.sent or stats.retried or stats.recovered:
                self.stdout.write(f"sent {stats.sent}, retried {stats.retried}, recovered {stats.recovered}")
            if not (until_empty or forever):
                break
            busy = stats.sent or stats.retried or stats.recovered or stats.lost_races
            if until_empty and not busy and not self._pending():
                break
            if not busy:
                time.sleep(interval)
        self.stdout.write(f"delivered {total}")

    @staticmethod
    def _pending() -> bool:
        from django.utils import timezone

        now = timezone.now()
        return (Message.objects.filter(state=MessageState.SENDING).exists()
                or Message.objects.filter(state=MessageState.QUEUED, next_attempt_at__lte=now).exists())
