"""The audit log's one message kind in the time-and-language walk (see
pedsdesk/portal/tests/family_surfaces.py)."""

from pedsdesk.audit.checkpoints import checkpoint_document
from pedsdesk.portal.tests.family_surfaces import Example, FamilyWorld, message_context


@message_context("audit_checkpoint")
def _checkpoint(world: FamilyWorld) -> Example:
    document = checkpoint_document(chain=world.practice.pk, now=world.before)
    return Example({"checkpoint": document}, [world.before])
