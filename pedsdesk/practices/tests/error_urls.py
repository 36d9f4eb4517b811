"""The site's URLs plus one view that fails, for the 500 page's test."""

from django.core.exceptions import SuspiciousOperation
from django.urls import path

from pedsdesk.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def _fails(request):
    raise RuntimeError("the database went away")


def _suspicious(request):
    raise SuspiciousOperation("a malformed request")


urlpatterns = [path("boom/", _fails), path("f/boom/", _fails), path("odd/", _suspicious), *urlpatterns]
