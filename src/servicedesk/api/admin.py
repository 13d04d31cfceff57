"""API tokens and webhooks in the admin: tokens can be revoked (never shown); webhooks are
registered and their delivery log read, with actions to replay a delivery (a copy) and to
send failed ones again."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin

from servicedesk.api import tokens, webhooks
from servicedesk.api.models import ApiToken, Webhook, WebhookDelivery
from servicedesk.core import clock
from servicedesk.core.errors import DomainError


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["user"]
    search_fields = ["prefix", "user__email", "name"]
    fields = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # made with `servicedesk token create`, which shows the token once

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        live = list(queryset.filter(revoked_at=None))
        for row in live:
            tokens.revoke(prefix=row.prefix)
        count = len(live)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = Webhook
        fields = ["url", "events", "description", "is_active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            webhooks.check_url(url)  # the form's own check lets ftp:// through
        except DomainError as error:
            raise forms.ValidationError(error.localized()) from None
        return url


@admin.register(Webhook)
class WebhookAdmin(ModelAdmin):
    form = WebhookForm
    list_display = ["url", "description", "is_active", "created_at"]
    list_filter = ["is_active"]
    fields = ["url", "events", "description", "is_active", "secret", "created_at"]
    readonly_fields = ["secret", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.secret = webhooks.new_secret()
            obj.created_at = clock.now()
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ModelAdmin):
    list_display = ["created_at", "webhook", "event", "status", "attempts", "response_status"]
    list_filter = ["status", "event"]
    list_select_related = ["webhook"]
    search_fields = ["message_id"]
    show_full_result_count = False
    fields = [
        "webhook", "message_id", "event", "status", "attempts", "response_status",
        "last_error", "created_at", "next_attempt_at", "delivered_at", "payload",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["replay", "send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send again (replay)"))
    def replay(self, request, queryset):
        rows = list(queryset)
        for row in rows:
            webhooks.replay(row)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery queued again.", "%(count)d deliveries queued again.", len(rows)
            )
            % {"count": len(rows)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Send the selected failed deliveries again (same webhook id)"))
    def send_again(self, request, queryset):
        chosen = list(queryset.values_list("pk", flat=True))
        count = len(webhooks.resend(ids=chosen))
        self.message_user(
            request,
            ngettext(
                "%(count)d of %(chosen)d delivery queued again (only failed ones are).",
                "%(count)d of %(chosen)d deliveries queued again (only failed ones are).",
                len(chosen),
            )
            % {"count": count, "chosen": len(chosen)},
            messages.SUCCESS if count == len(chosen) else messages.WARNING,
        )
