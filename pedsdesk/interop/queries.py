"""Reads for imports: mappings a practice can use, its import history."""

from pathlib import Path

from django.core.management.base import CommandError

from pedsdesk.interop.mapping import Mapping, load_mapping, mapping_from_dict, presets
from pedsdesk.interop.models import ImportRun, SavedMapping
from pedsdesk.practices.models import Practice


def find_mapping(practice: Practice, name: str) -> Mapping:
    """A practice's saved mapping by name, a shipped preset by its file name, or a mapping file."""
    saved = SavedMapping.objects.filter(practice=practice, name=name).first()
    if saved is not None:
        return mapping_from_dict(saved.spec)
    shipped = presets()
    if name in shipped:
        return shipped[name]
    if name.endswith(".toml") and Path(name).is_file():
        return load_mapping(name)
    raise LookupError(f'No mapping "{name}". The presets are {", ".join(shipped)}, plus fhir for FHIR Bundles.')


def import_history(practice: Practice, limit: int = 50) -> list[ImportRun]:
    return list(ImportRun.objects.filter(practice=practice).select_related("started_by")[:limit])


def command_practice(practice_id: int | None) -> Practice:
    """The practice a command (``pedsdesk import``, ``pedsdesk export``) means: the one named,
    or the only one there is; else a CommandError that says what to pass."""
    if practice_id:
        practice = Practice.objects.filter(pk=practice_id).first()
        if practice is None:
            raise CommandError(f"No practice {practice_id}.")
        return practice
    practices = list(Practice.objects.order_by("pk")[:2])
    if len(practices) != 1:
        raise CommandError("Say which practice with --practice ID." if practices else "There is no practice yet.")
    return practices[0]
