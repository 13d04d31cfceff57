"""Products and categories: what a ticket is about, and the group each one starts in."""

from django.contrib import admin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RelatedDropdownFilter

from servicedesk.tickets.models import Category, Product


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    list_display = ["name", "vendor", "default_group", "is_active"]
    list_filter = ["is_active", ("vendor", RelatedDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["vendor", "default_group"]
    search_fields = ["name"]
    autocomplete_fields = ["vendor"]


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "kind", "default_group"]
    list_filter = ["kind"]
    list_select_related = ["default_group"]
    search_fields = ["name"]
