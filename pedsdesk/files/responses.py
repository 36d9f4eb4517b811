"""The one way bytes of a private file or generated document leave pedsdesk: the caller
has checked permission; this writes the headers that keep browsers and proxies from
sniffing, rendering active content or caching it, and the audit event."""

from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse

from pedsdesk.audit.actions import record_event
from pedsdesk.files.models import StoredFile
from pedsdesk.files.storage import private_storage


def _private(response: HttpResponse, *, content_type: str, download_name: str, inline: bool) -> HttpResponse:
    response["Content-Type"] = content_type
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{download_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store, max-age=0"
    # Opened on its own, a file gets no scripts, no plugins, no same-origin rights.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def file_response(request: HttpRequest, stored: StoredFile, *, actor: Any, inline: bool | None = None,
                  detail: dict | None = None) -> HttpResponse:
    """Serve a stored file to someone already allowed to see it. Pictures open inline,
    documents download, unless ``inline`` says otherwise."""
    if stored.discarded_at:
        raise Http404("This file was removed.")
    storage = private_storage()
    try:
        handle = storage.open(stored.storage_name, "rb")
    except FileNotFoundError:
        raise Http404("This file is missing from the private directory.") from None
    record_event(actor=actor, action="view", obj=stored, request=request,
                 detail={"purpose": stored.purpose, **(detail or {})})
    response = FileResponse(handle)
    response["Content-Length"] = str(stored.size)
    return _private(response, content_type=stored.content_type, download_name=stored.download_name,
                    inline=stored.is_image if inline is None else inline)


def document_response(request: HttpRequest, content: bytes, *, actor: Any, obj: Any, download_name: str,
                      detail: dict | None = None) -> HttpResponse:
    """Serve a PDF pedsdesk generated just now (a renewal packet), audited as an export
    of ``obj``. ``download_name`` without extension; keep clinical words out of it."""
    if not content.startswith(b"%PDF-"):
        raise ValueError("document_response serves generated PDFs only")
    record_event(actor=actor, action="export", obj=obj, request=request, detail=detail or {})
    name = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in download_name)[:80]
    return _private(HttpResponse(content), content_type="application/pdf", download_name=f"{name}.pdf",
                    inline=False)
