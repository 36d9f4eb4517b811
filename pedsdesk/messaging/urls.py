from django.urls import path

from pedsdesk.messaging import views

urlpatterns = [
    path("messaging/twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("messaging/twilio/status/", views.twilio_status, name="twilio_status"),
    path("messaging/guardians/<int:pk>/clear-failing/", views.channel_failure_clear, name="channel_failure_clear"),
    path("messaging/outbox/", views.outbox, name="messaging_outbox"),
]
