from dataclasses import dataclass

from django.db.models import Q

from pedsdesk.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent


@dataclass
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""
    bad_seq: int | None = None


def verify_chain() -> ChainReport:
    """Walk the whole chain in order; report the first entry that does not hold."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainReport(False, checked, f"entry #{expected_seq} is missing (next is #{event.seq})", expected_seq)
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, f"entry #{event.seq} does not follow the entry before it", event.seq)
        if event.compute_hash() != event.hash:
            return ChainReport(False, checked, f"entry #{event.seq} was altered after it was written", event.seq)
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != checked or head_hash != expected_prev:
        return ChainReport(
            False, checked, f"the chain ends at #{checked} but its head says #{head_seq}: entries were removed",
            checked + 1,
        )
    return ChainReport(True, checked)


def search_events(*, practice_id: int, text: str = "", action: str = "", patient_id: int | None = None,
                  actor_id: int | None = None, start=None, end=None):
    events = AuditEvent.objects.filter(practice_id=practice_id)
    if action:
        events = events.filter(action=action)
    if patient_id:
        events = events.filter(patient_id=patient_id)
    if actor_id:
        events = events.filter(actor_id=actor_id)
    if start:
        events = events.filter(at__gte=start)
    if end:
        events = events.filter(at__lt=end)
    if text:
        events = events.filter(
            Q(actor_label__icontains=text) | Q(object_type__icontains=text) | Q(object_id=text)
        )
    return events.order_by("-seq")
