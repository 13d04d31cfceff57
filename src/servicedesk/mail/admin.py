"""The outbox, read-only: what left, what waits, what failed and why."""

from django.contrib import admin
from unfold.admin import ModelAdmin

from servicedesk.mail.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ModelAdmin):
    list_display = ["subject", "status", "attempts", "next_attempt_at", "sent_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["subject", "message_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
