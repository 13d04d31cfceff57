"""Mail in the admin: the inbox (every message received, quarantine included), the IMAP
mailboxes, and the outbox, read-only: what left, what waits, what failed and why, with an
action that sends failed messages again."""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin

from servicedesk.mail import ingest, outbox
from servicedesk.mail.models import InboundMessage, Mailbox, OutboxMessage, Outcome


@admin.register(InboundMessage)
class InboundMessageAdmin(ModelAdmin):
    list_display = ["received_at", "sender", "subject", "outcome", "ticket", "source"]
    list_filter = ["outcome"]
    list_select_related = ["ticket"]
    search_fields = ["sender", "subject", "message_id"]
    date_hierarchy = "received_at"
    show_full_result_count = False  # no COUNT(*) over the whole inbox on every page
    fields = [
        "received_at", "source", "sender", "subject", "message_id", "outcome", "reason",
        "ticket", "processed_at", "size", "raw_link", "text",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["process_again"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("raw", "html")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # nothing is ever lost

    def get_urls(self):
        raw = path(
            "<int:pk>/raw/",
            self.admin_site.admin_view(self.download_raw),
            name="mail_inboundmessage_raw",
        )
        return [raw, *super().get_urls()]

    def download_raw(self, request, pk: int):
        inbound = get_object_or_404(InboundMessage, pk=pk)
        response = HttpResponse(bytes(inbound.raw), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="message-{inbound.pk}.eml"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.display(description=_("raw message"))
    def raw_link(self, inbound: InboundMessage) -> str:
        url = reverse("admin:mail_inboundmessage_raw", args=[inbound.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download the message as received"))

    @admin.action(description=_("Process quarantined messages again"))
    def process_again(self, request, queryset):
        chosen = list(queryset.filter(outcome=Outcome.QUARANTINED).values_list("pk", flat=True))
        InboundMessage.objects.filter(pk__in=chosen).update(outcome=Outcome.RECEIVED)
        results = [ingest.process(pk) for pk in chosen]
        done = sum(r.outcome != Outcome.QUARANTINED for r in results)
        self.message_user(
            request,
            ngettext(
                "%(done)d of %(count)d message was processed; the rest stay in quarantine.",
                "%(done)d of %(count)d messages were processed; the rest stay in quarantine.",
                len(chosen),
            )
            % {"done": done, "count": len(chosen)},
            messages.SUCCESS if done == len(chosen) else messages.WARNING,
        )


@admin.register(Mailbox)
class MailboxAdmin(ModelAdmin):
    list_display = [
        "name",
        "username",
        "host",
        "folder",
        "is_active",
        "last_polled_at",
        "last_error",
    ]
    list_filter = ["is_active"]
    readonly_fields = ["last_polled_at", "last_error"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ModelAdmin):
    list_display = ["subject", "status", "attempts", "next_attempt_at", "sent_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["subject", "message_id"]
    date_hierarchy = "created_at"
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected failed messages again"))
    def send_again(self, request, queryset):
        chosen = list(queryset.values_list("pk", flat=True))
        count = len(outbox.resend(ids=chosen))
        self.message_user(
            request,
            ngettext(
                "%(count)d of %(chosen)d message queued again (only failed ones are).",
                "%(count)d of %(chosen)d messages queued again (only failed ones are).",
                len(chosen),
            )
            % {"count": count, "chosen": len(chosen)},
            messages.SUCCESS if count == len(chosen) else messages.WARNING,
        )
