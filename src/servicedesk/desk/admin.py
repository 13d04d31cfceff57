from django.contrib import admin
from unfold.admin import ModelAdmin

from servicedesk.desk.models import Macro, SavedFilter


@admin.register(Macro)
class MacroAdmin(ModelAdmin):
    list_display = ["name"]
    search_fields = ["name", "body"]


@admin.register(SavedFilter)
class SavedFilterAdmin(ModelAdmin):
    list_display = ["name", "owner", "shared"]
    list_filter = ["shared"]
