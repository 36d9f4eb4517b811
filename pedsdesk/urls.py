from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("pedsdesk.practices.urls")),
    path("", include("pedsdesk.people.urls")),
    path("", include("pedsdesk.authorizations.urls")),
    path("", include("pedsdesk.schools.urls")),
    path("", include("pedsdesk.audit.urls")),
    path("", include("pedsdesk.portal.urls")),
    path("api/v1/", include("pedsdesk.api_urls")),
    path("admin/", admin.site.urls),
]
