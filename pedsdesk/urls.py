from django.contrib import admin
from django.urls import include, path

from pedsdesk import health
from pedsdesk.operations.metrics import metrics_view

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("", include("pedsdesk.operations.urls")),
    path("", include("pedsdesk.practices.urls")),
    path("", include("pedsdesk.people.urls")),
    path("", include("pedsdesk.authorizations.urls")),
    path("", include("pedsdesk.schools.urls")),
    path("", include("pedsdesk.scheduling.urls")),
    path("", include("pedsdesk.scheduling.urls_calendar")),
    path("", include("pedsdesk.audit.urls")),
    path("", include("pedsdesk.files.urls")),
    path("", include("pedsdesk.portal.urls")),
    path("", include("pedsdesk.messaging.urls")),
    path("", include("pedsdesk.workqueue.urls")),
    path("", include("pedsdesk.hep.urls")),
    path("", include("pedsdesk.interop.urls")),
    path("api/v1/", include("pedsdesk.api_urls")),
    path("admin/", admin.site.urls),
]

handler400 = "pedsdesk.errors.bad_request"
handler403 = "pedsdesk.errors.permission_denied"
handler404 = "pedsdesk.errors.page_not_found"
handler500 = "pedsdesk.errors.server_error"
