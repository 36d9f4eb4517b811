from django.urls import path

from pedsdesk.audit import views

urlpatterns = [path("audit/", views.audit_search, name="audit_search")]
