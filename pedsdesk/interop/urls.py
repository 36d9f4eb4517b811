from django.urls import path

from pedsdesk.interop import views

urlpatterns = [
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.import_run, name="import_run"),
    path("imports/<int:pk>/apply/", views.import_run_apply, name="import_run_apply"),
    path("imports/mappings/<str:name>/", views.mapping_edit, name="import_mapping"),
]
