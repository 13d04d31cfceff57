"""Configuration of people: organisations, contacts, staff, support groups and vendors.

Contacts (customers) and staff are one ``User`` model, shown as two pages through the
``Contact`` and ``Staff`` proxies: each page lists and creates only its own kind, so a
contact never becomes staff here, nor the reverse. The base ``User`` page is hidden from
the menu; it only serves the people pickers (autocomplete) of the other pages.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoPermissionGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group as PermissionGroup
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    DropdownFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from servicedesk.accounts.models import (
    Contact,
    CustomerRole,
    EmailDomain,
    Group,
    Organisation,
    Staff,
    User,
    Vendor,
)
from servicedesk.tickets.models import Ticket


def _clean_timezone(value: str) -> str:
    value = value.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(zone)s is not a known time zone (use a name such as Europe/Oslo)."),
            params={"zone": value},
        ) from None
    return value


def _count_of(queryset, field: str):
    """A correlated count of ``queryset`` rows per parent row: one subquery per page, and no
    row multiplication when several counts are joined to the same parent."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# -- organisations -------------------------------------------------------------------------


class EmailDomainInline(TabularInline):
    model = EmailDomain
    fields = ["domain"]
    extra = 0
    hide_title = True


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "name", "country", "timezone", "language", "account_manager", "project_lead", "notes",
        ]  # fmt: skip

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise ValidationError(_("Give the two-letter ISO 3166 code, such as GB, NO or FR."))
        return country

    def clean_timezone(self) -> str:
        return _clean_timezone(self.cleaned_data["timezone"])


@admin.register(Organisation)
class OrganisationAdmin(ModelAdmin):
    form = OrganisationForm
    list_display = [
        "name",
        "country",
        "language",
        "account_manager",
        "project_lead",
        "contact_count",
        "ticket_count",
    ]
    list_filter = ["country", "language", ("account_manager", RelatedDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["account_manager", "project_lead"]
    search_fields = ["name", "email_domains__domain"]
    autocomplete_fields = ["account_manager", "project_lead"]
    inlines = [EmailDomainInline]
    fieldsets = [
        (None, {"fields": ["name", "country", "timezone", "language"]}),
        (_("Our people"), {"fields": ["account_manager", "project_lead"]}),
        (_("Notes"), {"fields": ["notes"]}),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "website":
            kwargs["assume_scheme"] = "https"  # "vendor.example" means https://vendor.example
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                contacts_total=_count_of(User.objects.filter(is_staff=False), "organisation"),
                tickets_total=_count_of(Ticket.objects.all(), "organisation"),
            )
        )

    @display(description=_("contacts"), ordering="contacts_total")
    def contact_count(self, organisation) -> int:
        return organisation.contacts_total

    @display(description=_("tickets"), ordering="tickets_total")
    def ticket_count(self, organisation) -> int:
        return organisation.tickets_total


# -- people --------------------------------------------------------------------------------


class _EmailFormMixin:
    """Email addresses are kept lower-case, as the manager and the mail intake keep them."""

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        clash = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(_("Someone already uses this email address."))
        return email

    def clean_timezone(self) -> str:
        return _clean_timezone(self.cleaned_data["timezone"])


class ContactChangeForm(_EmailFormMixin, UserChangeForm):
    pass


class ContactCreationForm(_EmailFormMixin, UserCreationForm):
    class Meta:
        model = Contact
        fields = ("email", "full_name", "phone", "organisation", "customer_role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_role"].initial = CustomerRole.END_USER
        # Most contacts write by email or phone; they get a password when invited to the portal.
        self.fields["usable_password"].initial = "false"


def _support_groups_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label=_("Support groups"),
        queryset=Group.objects.all(),
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=_("The queues this person works in (the groups' members)."),
    )


class StaffChangeForm(_EmailFormMixin, UserChangeForm):
    support_groups = _support_groups_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["support_groups"].initial = self.instance.support_groups.all()
        if "groups" in self.fields:
            self.fields["groups"].label = _("Permission groups")


class StaffCreationForm(_EmailFormMixin, UserCreationForm):
    support_groups = _support_groups_field()

    class Meta:
        model = Staff
        fields = ("email", "full_name", "phone", "staff_role")


class SupportGroupFilter(DropdownFilter):
    title = _("support group")
    parameter_name = "support_group"

    def lookups(self, request, model_admin):
        return [(group.pk, str(group)) for group in Group.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(support_groups=self.value())
        return queryset


class _PeopleAdmin(DjangoUserAdmin, ModelAdmin):
    """One kind of user: the queryset, and every save, hold ``is_staff`` to this page's kind."""

    is_staff_value: bool
    change_password_form = AdminPasswordChangeForm
    ordering = ["email"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_staff=self.is_staff_value)


@admin.register(Contact)
class ContactAdmin(_PeopleAdmin):
    is_staff_value = False
    form = ContactChangeForm
    add_form = ContactCreationForm
    list_display = [
        "email",
        "full_name",
        "organisation",
        "customer_role",
        "language",
        "is_active",
        "last_login",
    ]
    list_filter = [
        ("organisation", AutocompleteSelectFilter),
        "customer_role",
        "language",
        "is_active",
    ]
    list_filter_submit = True
    list_select_related = ["organisation"]
    search_fields = ["email", "full_name", "phone", "organisation__name"]
    autocomplete_fields = ["organisation"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Contact"), {"fields": ["full_name", "phone", "organisation", "customer_role"]}),
        (_("Preferences"), {"fields": ["language", "timezone"]}),
        (_("Access"), {"fields": ["is_active", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["email", "full_name", "phone", "organisation", "customer_role"]}),
        (_("Portal login"), {"fields": ["usable_password", "password1", "password2"]}),
    ]

    def save_model(self, request, obj, form, change):
        obj.is_staff = obj.is_superuser = False
        super().save_model(request, obj, form, change)


@admin.register(Staff)
class StaffAdmin(_PeopleAdmin):
    is_staff_value = True
    form = StaffChangeForm
    add_form = StaffCreationForm
    list_display = [
        "email",
        "full_name",
        "staff_role",
        "support_group_names",
        "is_superuser",
        "is_active",
        "last_login",
    ]
    list_filter = [
        "staff_role",
        SupportGroupFilter,
        "is_superuser",
        "is_active",
    ]
    list_filter_submit = True
    filter_horizontal = ["groups", "user_permissions"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Staff member"), {"fields": ["full_name", "phone", "staff_role", "support_groups"]}),
        (_("Preferences"), {"fields": ["language", "timezone"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["email", "full_name", "phone", "staff_role", "support_groups"]}),
        (_("Login"), {"fields": ["usable_password", "password1", "password2"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("support_groups")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:  # only a superuser hands out powers
            fields += ["is_superuser", "groups", "user_permissions"]
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # Read-only: the groups by name (the form field that edits them is not shown).
        swap = {"support_groups": "support_group_names"}
        return [
            (name, {**options, "fields": [swap.get(f, f) for f in options["fields"]]})
            for name, options in fieldsets
        ]

    @display(description=_("support groups"))
    def support_group_names(self, user) -> str:
        return ", ".join(group.name for group in user.support_groups.all())

    def save_model(self, request, obj, form, change):
        obj.is_staff = True
        obj.customer_role, obj.organisation = "", None  # staff belong to no customer
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "support_groups" in form.cleaned_data:
            form.instance.support_groups.set(form.cleaned_data["support_groups"])


# Which people a picker offers, by the field it fills: (app, model, field) -> filter.
_PICKER_FILTERS = {
    ("tickets", "ticket", "requester"): {"is_staff": False},
    ("tickets", "ticket", "assignee"): {"is_staff": True, "is_active": True},
    ("accounts", "organisation", "account_manager"): {"is_staff": True, "is_active": True},
    ("accounts", "organisation", "project_lead"): {"is_staff": True, "is_active": True},
    ("accounts", "group", "lead"): {"is_staff": True, "is_active": True},
}


@admin.register(User)
class UserAdmin(ModelAdmin):
    """Serves the people pickers (autocomplete) of other pages; not in the menu, and read-only:
    contacts and staff are edited on their own pages, where this page sends its links."""

    search_fields = ["email", "full_name"]
    fields = ["email", "full_name", "is_staff"]

    def has_module_permission(self, request) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        return HttpResponseRedirect(reverse("admin:accounts_contact_changelist"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        user = self.get_object(request, object_id)
        if user is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        page = "staff" if user.is_staff else "contact"
        return HttpResponseRedirect(reverse(f"admin:accounts_{page}_change", args=[user.pk]))

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        source = (
            request.GET.get("app_label"),
            request.GET.get("model_name"),
            request.GET.get("field_name"),
        )
        if source in _PICKER_FILTERS:
            queryset = queryset.filter(**_PICKER_FILTERS[source])
        return queryset, distinct


# -- support groups, permission groups, vendors --------------------------------------------


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ["name", "level", "email", "is_default_intake", "lead", "members"]

    def clean_is_default_intake(self) -> bool:
        intake = self.cleaned_data["is_default_intake"]
        if intake:
            other = Group.objects.filter(is_default_intake=True).exclude(pk=self.instance.pk)
            if other.exists():
                raise ValidationError(
                    _(
                        "%(group)s already receives new tickets; only one group can. Untick it "
                        "there first."
                    ),
                    params={"group": other.first()},
                )
        return intake


@admin.register(Group)
class GroupAdmin(ModelAdmin):
    form = GroupForm
    list_display = ["name", "level", "lead", "is_default_intake", "member_count", "email"]
    list_filter = ["level", "is_default_intake"]
    list_select_related = ["lead"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    autocomplete_fields = ["lead"]
    fieldsets = [
        (None, {"fields": ["name", "level", "email", "is_default_intake"]}),
        (_("People"), {"fields": ["lead", "members"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members_total=Count("members"))

    @display(description=_("members"), ordering="members_total")
    def member_count(self, group) -> int:
        return group.members_total

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# Permission groups (django.contrib.auth) in the same look as the rest of the admin.
admin.site.unregister(PermissionGroup)


@admin.register(PermissionGroup)
class PermissionGroupAdmin(DjangoPermissionGroupAdmin, ModelAdmin):
    pass


@admin.register(Vendor)
class VendorAdmin(ModelAdmin):
    list_display = ["name", "kind", "email", "phone", "website"]
    list_filter = ["kind"]
    search_fields = ["name", "email"]
    fieldsets = [
        (None, {"fields": ["name", "kind"]}),
        (_("Contact"), {"fields": ["email", "phone", "website"]}),
        (_("Notes"), {"fields": ["notes"]}),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "website":
            kwargs["assume_scheme"] = "https"  # "vendor.example" means https://vendor.example
        return super().formfield_for_dbfield(db_field, request, **kwargs)
