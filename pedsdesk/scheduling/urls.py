from django.urls import path

from pedsdesk.scheduling import views, views_offers

urlpatterns = [
    path("schedule/", views.schedule_week, name="schedule_week"),
    path("schedule/day/", views.schedule_day, name="schedule_day"),
    path("schedule/slot/", views.slot_panel, name="schedule_slot"),
    path("schedule/book/", views.book, name="schedule_book"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("appointments/<int:pk>/move/", views.appointment_move, name="appointment_move"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("appointments/<int:pk>/status/", views.appointment_status, name="appointment_status"),
    path("f/<str:token>/offers/<int:pk>/", views_offers.family_offer, name="family_offer"),
    path("f/<str:token>/offers/<int:pk>/<str:choice>/", views_offers.family_offer, name="family_offer_choice"),
]
