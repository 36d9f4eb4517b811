from django.urls import path

from pedsdesk.operations import views

urlpatterns = [
    path("operations/sweeps/", views.sweep_status_page, name="sweep_status"),
]
