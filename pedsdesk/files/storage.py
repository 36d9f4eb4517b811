"""The private directory: a file system storage with no URL."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    def url(self, name):
        raise NotImplementedError("private files have no URL; use pedsdesk.files.links.signed_url")


def private_storage() -> PrivateStorage:
    # Built on each call so tests that change PEDSDESK_PRIVATE_DIR are honoured.
    return PrivateStorage(location=settings.PEDSDESK_PRIVATE_DIR, base_url=None,
                          file_permissions_mode=0o600, directory_permissions_mode=0o700)
