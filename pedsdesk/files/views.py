from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from pedsdesk.files.links import read_link
from pedsdesk.files.models import StoredFile
from pedsdesk.files.responses import file_response


@require_safe
def private_file(request: HttpRequest, token: str) -> HttpResponse:
    """A signed link: no login, the signature and its expiry are the permission."""
    found = read_link(token)
    if found is None:
        raise Http404("This link is not valid or has expired; ask the practice for a new one.")
    file_id, practice_id, audience = found
    stored = StoredFile.objects.filter(pk=file_id, practice_id=practice_id).first()
    if stored is None:
        raise Http404("This file was removed.")
    return file_response(request, stored, actor=f"signed link ({audience})"[:200])
