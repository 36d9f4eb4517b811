from django.contrib import admin

from pedsdesk.messaging.models import MessagingPolicy
from pedsdesk.practices.admin import PracticeScopedAdmin


@admin.register(MessagingPolicy)
class MessagingPolicyAdmin(PracticeScopedAdmin):
    list_display = ["practice", "quiet_start", "quiet_end", "sms_per_day", "sms_per_week", "sms_from_number"]
