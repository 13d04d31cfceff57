"""Configuration of people: organisations, contacts, staff, groups and vendors."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from servicedesk.accounts.models import (
    Contact,
    EmailDomain,
    Group,
    Organisation,
    Staff,
    User,
    Vendor,
)


class EmailDomainInline(TabularInline):
    model = EmailDomain
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(ModelAdmin):
    list_display = [
        "name",
        "country",
        "language",
        "account_manager",
        "contact_count",
        "ticket_count",
    ]
    list_filter = ["country", "language"]
    list_select_related = ["account_manager"]
    search_fields = ["name", "email_domains__domain"]
    autocomplete_fields = ["account_manager", "project_lead"]
    inlines = [EmailDomainInline]

    def get_queryset(self, request):
        # Counted in one query for the whole page (distinct: two joins multiply rows).
        return (
            super()
            .get_queryset(request)
            .annotate(
                contacts_total=Count("contacts", distinct=True),
                tickets_total=Count("tickets", distinct=True),
            )
        )

    @admin.display(description=_("contacts"), ordering="contacts_total")
    def contact_count(self, organisation):
        return organisation.contacts_total

    @admin.display(description=_("tickets"), ordering="tickets_total")
    def ticket_count(self, organisation):
        return organisation.tickets_total


class ContactCreationForm(UserCreationForm):
    class Meta:
        model = Contact
        fields = ("email", "full_name", "organisation", "customer_role")


class StaffCreationForm(UserCreationForm):
    class Meta:
        model = Staff
        fields = ("email", "full_name", "staff_role")


class _PeopleAdmin(DjangoUserAdmin, ModelAdmin):
    form = UserChangeForm
    change_password_form = AdminPasswordChangeForm
    ordering = ["email"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined"]
    is_staff_value: bool

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_staff=self.is_staff_value)

    def save_model(self, request, obj, form, change):
        obj.is_staff = self.is_staff_value  # a contact never becomes staff here, nor the reverse
        super().save_model(request, obj, form, change)


@admin.register(Contact)
class ContactAdmin(_PeopleAdmin):
    is_staff_value = False
    add_form = ContactCreationForm
    list_display = ["email", "full_name", "organisation", "customer_role", "language", "is_active"]
    list_filter = ["customer_role", "organisation", "language", "is_active"]
    list_select_related = ["organisation"]
    search_fields = ["email", "full_name", "organisation__name"]
    autocomplete_fields = ["organisation"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Contact"), {"fields": ["full_name", "phone", "organisation", "customer_role"]}),
        (_("Preferences"), {"fields": ["language", "timezone"]}),
        (_("Access"), {"fields": ["is_active", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "email",
                    "full_name",
                    "organisation",
                    "customer_role",
                    "password1",
                    "password2",
                ]
            },
        ),
    ]


@admin.register(Staff)
class StaffAdmin(_PeopleAdmin):
    is_staff_value = True
    add_form = StaffCreationForm
    list_display = ["email", "full_name", "staff_role", "is_superuser", "is_active"]
    list_filter = ["staff_role", "is_superuser", "is_active"]
    filter_horizontal = ["groups", "user_permissions"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Staff member"), {"fields": ["full_name", "phone", "staff_role"]}),
        (_("Preferences"), {"fields": ["language", "timezone"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["email", "full_name", "staff_role", "password1", "password2"]})
    ]


@admin.register(User)
class UserAdmin(ModelAdmin):
    """Serves the people pickers (autocomplete) of other pages; not listed in the menu:
    contacts and staff have their own pages."""

    search_fields = ["email", "full_name"]

    def get_model_perms(self, request):
        return {}

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        # Pickers for staff fields offer staff only (limit_choices_to on the field).
        field = request.GET.get("field_name")
        if field in {"account_manager", "project_lead", "assignee", "lead", "members"}:
            queryset = queryset.filter(is_staff=True, is_active=True)
        elif field == "requester":
            queryset = queryset.filter(is_staff=False)
        return queryset, distinct


@admin.register(Group)
class GroupAdmin(ModelAdmin):
    list_display = ["name", "level", "lead", "is_default_intake", "member_count"]
    list_filter = ["level"]
    list_select_related = ["lead"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    autocomplete_fields = ["lead"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members_total=Count("members"))

    @admin.display(description=_("members"), ordering="members_total")
    def member_count(self, group):
        return group.members_total

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            kwargs["queryset"] = User.objects.filter(is_staff=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Vendor)
class VendorAdmin(ModelAdmin):
    list_display = ["name", "kind", "email", "phone"]
    list_filter = ["kind"]
    search_fields = ["name"]
