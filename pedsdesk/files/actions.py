"""Checking and keeping files. Forms and API endpoints call ``check_upload`` in their
validation (so a refused file is an ordinary field error), then ``store_file`` in the
action that saves the record the file belongs to."""

import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from pedsdesk.audit.actions import record_event
from pedsdesk.files import sniff
from pedsdesk.files.models import StoredFile
from pedsdesk.files.storage import private_storage
from pedsdesk.practices.models import Practice

IMAGE, PDF = sniff.IMAGE, sniff.PDF
Checked = sniff.Checked


def check_upload(upload: Any, *, accept: frozenset[str] | set[str]) -> sniff.Checked:
    """Read an uploaded file (or bytes) and accept it as one of ``accept`` ({IMAGE}, {PDF}
    or both), or raise ValidationError with what to send instead. Images come back
    re-encoded: EXIF and everything but the pixels removed, at most
    ``PEDSDESK_IMAGE_MAX_SIDE`` pixels on the long side."""
    limit = settings.PEDSDESK_UPLOAD_MAX_BYTES
    if isinstance(upload, bytes):
        content = upload
    else:
        upload.seek(0)
        content = upload.read(limit + 1)  # one byte more than allowed is enough to refuse
    try:
        return sniff.check_bytes(content, accept=frozenset(accept), max_bytes=limit,
                                 max_pixels=settings.PEDSDESK_IMAGE_MAX_PIXELS,
                                 max_side=settings.PEDSDESK_IMAGE_MAX_SIDE)
    except sniff.Refused as refused:
        raise ValidationError(str(refused), code=refused.code) from None


def store_file(*, practice: Practice, purpose: str, checked: sniff.Checked, actor: Any,
               download_name: str, patient_id: int | None = None,
               request: HttpRequest | None = None) -> StoredFile:
    """Keep checked bytes in the private directory and record who stored them.

    ``download_name`` is the name a browser saves it under (no extension: the checked
    type gives it); keep clinical words out of it. Call inside the owning record's
    transaction: the row and its audit event commit or roll back together."""
    storage = private_storage()
    name = storage.save(f"{practice.pk}/{uuid.uuid4().hex}{checked.extension}", ContentFile(checked.content))
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(
                practice=practice, purpose=purpose, patient_id=patient_id, storage_name=name,
                content_type=checked.content_type, size=len(checked.content),
                sha256=hashlib.sha256(checked.content).hexdigest(), width=checked.width, height=checked.height,
                download_name=f"{_safe_name(download_name)}{checked.extension}",
                created_by_id=None if isinstance(actor, str) else actor.pk)
            record_event(actor=actor, action="create", obj=stored, practice_id=practice.pk, request=request,
                         detail={"purpose": purpose, "content_type": checked.content_type, "size": stored.size})
    except BaseException:
        storage.delete(name)
        raise
    return stored


def discard_file(*, stored: StoredFile, actor: Any, request: HttpRequest | None = None) -> None:
    """Remove a file's bytes for good (a replaced picture, a withdrawn scan); links stop working."""
    with transaction.atomic():
        locked = StoredFile.objects.select_for_update().get(pk=stored.pk)
        if locked.discarded_at:
            return
        locked.discarded_at = timezone.now()
        locked.save(update_fields=["discarded_at"])
        record_event(actor=actor, action="delete", obj=locked, request=request, detail={"purpose": locked.purpose})
        transaction.on_commit(lambda: private_storage().delete(locked.storage_name))
    stored.discarded_at = locked.discarded_at


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in name.strip())
    return cleaned.strip("-")[:80] or "file"
