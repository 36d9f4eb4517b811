from django.urls import path

from pedsdesk.scheduling import views, views_availability, views_lists, views_offers

urlpatterns = [
    path("schedule/", views.schedule_week, name="schedule_week"),
    path("schedule/day/", views.schedule_day, name="schedule_day"),
    path("schedule/slot/", views.slot_panel, name="schedule_slot"),
    path("schedule/book/", views.book, name="schedule_book"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("appointments/<int:pk>/move/", views.appointment_move, name="appointment_move"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("appointments/<int:pk>/status/", views.appointment_status, name="appointment_status"),
    path("tasks/<int:pk>/visit/", views.visit_call, name="visit_call"),
    path("plans-of-care/<int:pk>/discharge/", views_lists.plan_discharge, name="plan_discharge"),
    path("plans-of-care/<int:pk>/series/", views_lists.plan_series_create, name="plan_series_create"),
    path("schedule/availability/", views_availability.availability, name="availability"),
    path("schedule/availability/<str:kind>/<int:pk>/delete/", views_availability.availability_delete,
         name="availability_delete"),
    path("schedule/closures/", views_availability.closures, name="closures"),
    path("schedule/settings/", views_availability.scheduling_settings, name="scheduling_settings"),
    path("schedule/closures/<int:pk>/delete/", views_availability.closure_delete, name="closure_delete"),
    path("openings/", views_lists.opening_list, name="opening_list"),
    path("openings/<int:pk>/", views_lists.opening_detail, name="opening_detail"),
    path("openings/<int:pk>/offer-again/", views_lists.opening_offer_again, name="opening_offer_again"),
    path("waitlist/", views_lists.waitlist, name="waitlist"),
    path("waitlist/new/", views_lists.waitlist_create, name="waitlist_create"),
    path("waitlist/<int:pk>/", views_lists.waitlist_edit, name="waitlist_edit"),
    path("gap-list/", views_lists.gap_list, name="gap_list"),
    path("gap-list/new/", views_lists.gap_create, name="gap_create"),
    path("gap-list/<int:pk>/", views_lists.gap_edit, name="gap_edit"),
    path("f/<str:token>/offers/<int:pk>/", views_offers.family_offer, name="family_offer"),
    path("f/<str:token>/offers/<int:pk>/<str:choice>/", views_offers.family_offer, name="family_offer_choice"),
]
