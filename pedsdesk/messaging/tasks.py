"""huey task: a prompt delivery after queueing (the sweeps' tasks are in operations)."""

from huey.contrib.djhuey import db_task


@db_task()
def deliver_soon() -> dict:
    from pedsdesk.messaging.delivery import deliver_due

    return deliver_due().as_dict()
