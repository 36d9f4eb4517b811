from django.urls import path

from pedsdesk.scheduling import views

urlpatterns = [
    path("schedule/", views.schedule_week, name="schedule_week"),
    path("schedule/day/", views.schedule_day, name="schedule_day"),
    path("schedule/slot/", views.slot_panel, name="schedule_slot"),
    path("schedule/book/", views.book, name="schedule_book"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("appointments/<int:pk>/move/", views.appointment_move, name="appointment_move"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("appointments/<int:pk>/status/", views.appointment_status, name="appointment_status"),
]
