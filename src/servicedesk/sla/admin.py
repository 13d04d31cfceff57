"""Configuration of service levels: calendars (hours, holidays, closures) and policies."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from servicedesk.sla.models import Calendar, Closure, OpeningHours, Policy, PolicyTarget


class OpeningHoursInline(TabularInline):
    model = OpeningHours
    extra = 0


class ClosureInline(TabularInline):
    model = Closure
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(ModelAdmin):
    list_display = ["name", "timezone", "holiday_country", "holiday_subdivision"]
    search_fields = ["name"]
    inlines = [OpeningHoursInline, ClosureInline]


class PolicyTargetInline(TabularInline):
    model = PolicyTarget
    extra = 0
    fields = ["priority", "first_response", "follow_up", "resolution", "calendar"]


@admin.register(Policy)
class PolicyAdmin(ModelAdmin):
    list_display = ["name", "calendar", "organisation", "product", "is_default", "warning_percent"]
    list_filter = ["is_default", "calendar"]
    list_select_related = ["calendar", "organisation", "product"]
    search_fields = ["name"]
    inlines = [PolicyTargetInline]
    fieldsets = [
        (None, {"fields": ["name", "calendar", "is_default", "warning_percent"]}),
        (
            _("Applies to"),
            {
                "fields": ["organisation", "product"],
                "description": _(
                    "Leave both empty for a general policy. The most specific policy wins."
                ),
            },
        ),
    ]
