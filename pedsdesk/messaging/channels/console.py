"""Writes messages to DATA_DIR/outbox/<channel>.log instead of sending them: the demo
and development default, so nothing leaves the machine."""

from __future__ import annotations

import datetime as dt
import json
import os

from django.conf import settings
from django.utils import timezone

from pedsdesk.messaging.channels.base import SendResult, Transport, reference


class ConsoleTransport(Transport):
    name = "console"
    timeout = 5.0

    @property
    def path(self):
        folder = settings.DATA_DIR / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{self.channel}.log"

    def send(self, message) -> SendResult:
        ref = reference(message)
        record = {"ref": ref, "at": timezone.now().isoformat(), "to": message.to_address, "kind": message.kind,
                  "subject": message.subject, "body": message.body}
        # One write of one line with O_APPEND: whole lines even with several workers.
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return SendResult(provider_id=f"console-{ref}", response="written to the outbox file")

    def lookup(self, message, since: dt.datetime) -> bool | None:
        if not self.path.exists():
            return False
        needle = f'"ref": "{reference(message)}"'
        with self.path.open(encoding="utf-8") as handle:
            return any(needle in line for line in handle)
