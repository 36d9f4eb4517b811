"""The messaging sweep: deliver every due message (and recover ones whose worker died)."""

from pedsdesk.sweeps import sweep


@sweep("messaging.deliver_due", "minute")
def deliver_due_messages() -> dict:
    from pedsdesk.messaging.delivery import deliver_due

    return deliver_due().as_dict()
