"""The customer administrator's page of people (``/portal/people/``): the organisation's
contacts and their roles, inviting a new contact, changing a role, sending an invitation
again. Nobody else has this page: end users, designated loggers and staff get 404, and so
does a contact of another organisation."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from servicedesk.accounts import services
from servicedesk.accounts.models import CustomerRole
from servicedesk.accounts.selectors import is_customer_admin, managed_contacts
from servicedesk.core.errors import DomainError
from servicedesk.mail.access import mail_invitation


def customer_admin_only(view):
    """Signed-in customer administrators only; everyone else who is signed in gets 404."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("signin"))
        if not is_customer_admin(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    full_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    role = forms.ChoiceField(
        label=_("Role"), choices=CustomerRole.choices, initial=CustomerRole.END_USER
    )


def _page(request, form: InviteForm, *, status: int = 200):
    contacts = managed_contacts(request.user).order_by("full_name", "email")
    return render(
        request,
        "portal/people.html",
        {"contacts": contacts, "form": form, "roles": CustomerRole.choices, "section": "people"},
        status=status,
    )


@customer_admin_only
@require_GET
def people(request):
    return _page(request, InviteForm())


@customer_admin_only
@require_POST
def invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused invitation sends nothing
                contact = services.invite_contact(by=request.user, **form.cleaned_data)
                mail_invitation(contact=contact, by=request.user)
        except DomainError as error:
            form.add_error("email", error.localized())
        else:
            messages.success(
                request,
                _t("%(email)s is invited: they will get an email to choose a password.")
                % {"email": contact.email},
            )
            return redirect("portal:people")
    return _page(request, form, status=400)


@customer_admin_only
@require_POST
def change_role(request, contact_id: int):
    contact = get_object_or_404(managed_contacts(request.user), pk=contact_id)
    try:
        services.change_role(by=request.user, contact=contact, role=request.POST.get("role", ""))
    except DomainError as error:
        messages.error(request, error.localized())
    else:
        messages.success(
            request,
            _t("%(email)s is now: %(role)s.")
            % {"email": contact.email, "role": CustomerRole(request.POST["role"]).label},
        )
    return redirect("portal:people")


@customer_admin_only
@require_POST
def resend(request, contact_id: int):
    contact = get_object_or_404(
        managed_contacts(request.user).filter(is_active=True), pk=contact_id
    )
    with transaction.atomic():
        mail_invitation(contact=contact, by=request.user)
    messages.success(
        request, _t("The invitation is on its way to %(email)s.") % {"email": contact.email}
    )
    return redirect("portal:people")


urlpatterns = [
    path("people/", people, name="people"),
    path("people/invite/", invite, name="people-invite"),
    path("people/<int:contact_id>/role/", change_role, name="people-role"),
    path("people/<int:contact_id>/invite/", resend, name="people-resend"),
]
