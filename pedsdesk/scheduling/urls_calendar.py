"""Calendar files and what families do with their visits from the family link."""

from django.urls import path

from pedsdesk.scheduling import views_calendar, views_family

urlpatterns = [
    # Public: the token is the credential.
    path("calendar/<str:token>.ics", views_calendar.calendar_feed, name="calendar_feed"),
    path("calendar/visit/<str:token>.ics", views_calendar.visit_ics, name="visit_ics"),
    path("f/<str:token>/visits/<int:pk>/confirm/", views_family.family_visit_confirm, name="family_visit_confirm"),
    path("f/<str:token>/visits/<int:pk>/cancel/", views_family.family_visit_cancel, name="family_visit_cancel"),
    path("f/<str:token>/visits/<int:pk>/reschedule/", views_family.family_visit_reschedule,
         name="family_visit_reschedule"),
    # Staff
    path("calendar/feed/", views_calendar.calendar_feed_settings, name="calendar_feed_settings"),
    path("calendar/feed/new/", views_calendar.calendar_feed_create, name="calendar_feed_create"),
    path("calendar/feed/<int:pk>/revoke/", views_calendar.calendar_feed_revoke, name="calendar_feed_revoke"),
]
