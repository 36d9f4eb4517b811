from dataclasses import dataclass

from django.db.models import Q

from pedsdesk.audit.actions import audit_key
from pedsdesk.audit.models import GENESIS_HASH, NO_PRACTICE_CHAIN, AuditChainHead, AuditEvent, chain_for


@dataclass
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""
    bad_seq: int | None = None
    chain: int | None = None


def chain_label(chain: int) -> str:
    return "the chain of events without a practice" if chain == NO_PRACTICE_CHAIN else f"practice {chain}'s chain"


def chain_ids() -> list[int]:
    found = set(AuditChainHead.objects.values_list("chain", flat=True))
    found |= set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    return sorted(found)


def _verify_one(chain: int, key: str, seen: dict | None, seen_at: str) -> ChainReport:
    """Walk one chain in order; report the first entry that does not hold."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainReport(False, checked, f"entry #{expected_seq} is missing (next is #{event.seq})",
                               expected_seq, chain)
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, f"entry #{event.seq} does not follow the entry before it",
                               event.seq, chain)
        if event.compute_hash(key) != event.hash:
            return ChainReport(False, checked, f"entry #{event.seq} was altered after it was written "
                                               "(or hashed without the audit key)", event.seq, chain)
        if seen and event.seq == seen["seq"] and event.hash != seen["hash"]:
            return ChainReport(False, checked, f"entry #{event.seq} is not the entry the checkpoint of {seen_at} "
                                               "saw: the chain was rewritten", event.seq, chain)
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(chain=chain).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != checked or head_hash != expected_prev:
        return ChainReport(False, checked, f"the chain ends at #{checked} but its head says #{head_seq}: "
                                           "entries were removed", checked + 1, chain)
    if seen and checked < seen["seq"]:
        return ChainReport(False, checked, f"the chain ends at #{checked} but the checkpoint of {seen_at} saw "
                                           f"#{seen['seq']}: entries were removed from its end", checked + 1, chain)
    return ChainReport(True, checked, chain=chain)


def verify_chains(*, practice_id: int | None = None, checkpoint: dict | None = None) -> list[ChainReport]:
    """One report per chain (or for one practice's), checked against ``checkpoint``'s heads
    when given (a document from audit.checkpoints.load_checkpoint, signature already checked)."""
    key = audit_key()
    seen = {c["chain"]: c for c in (checkpoint or {}).get("chains", [])}
    seen_at = (checkpoint or {}).get("written_at", "")
    chains = [chain_for(practice_id)] if practice_id is not None else sorted(set(chain_ids()) | set(seen))
    return [_verify_one(chain, key, seen.get(chain), seen_at) for chain in chains]


def verify_chain(*, practice_id: int | None = None, checkpoint: dict | None = None) -> ChainReport:
    """Every chain (or one practice's) as one report: the first broken chain, or all good."""
    reports = verify_chains(practice_id=practice_id, checkpoint=checkpoint)
    for report in reports:
        if not report.ok:
            return ChainReport(False, report.checked, f"{chain_label(report.chain)}: {report.problem}",
                               report.bad_seq, report.chain)
    return ChainReport(True, sum(r.checked for r in reports))


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
