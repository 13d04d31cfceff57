"""Ways into the portal without a password: the signed login link of a customer's email
(``/portal/enter/<token>/``), and the status page for people without an account
(``/status/``), which emails the requester such a link.

A login link is shown on a GET and used on a POST: mail scanners follow the links of the
mail they scan, and must not use up a link that works once. A bad link (tampered, expired,
used, made for something else, a staff member's) answers 404, and changes nothing.

``/status/`` confirms nothing to a stranger: whatever the number and the address, the page
that follows is the same (status, body, and the work done to make it, but for the mail
itself), and more than ``SERVICEDESK_STATUS_LOOKUPS_PER_HOUR`` look-ups an hour from one
client address or for one number get that page too, and no mail. Look-ups are counted in
the database, which every web worker shares.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import auth
from django.db import transaction
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods

from servicedesk.accounts.models import User
from servicedesk.accounts.signin import client_address
from servicedesk.core import clock, links
from servicedesk.mail.access import mail_status_link
from servicedesk.portal.models import StatusLookup
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.references import format_reference, parse_reference

WINDOW = timedelta(hours=1)


def _bad_link(request):
    return render(request, "portal/bad_link.html", status=404)


def _use_up(user: User) -> bool:
    """Mark ``user``'s outstanding login links used, once: of two requests that present the
    same link at the same time, only one gets True."""
    unchanged = (
        Q(last_login__isnull=True) if user.last_login is None else Q(last_login=user.last_login)
    )
    return User.objects.filter(unchanged, pk=user.pk).update(last_login=clock.now()) == 1


def _ticket_page(number: int | None) -> str:
    return reverse("portal:ticket", args=[number]) if number else reverse("portal:home")


@sensitive_variables("token")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def enter(request, token: str):
    try:
        user, number = links.read_login_token(token)
    except links.BadLink:
        return _bad_link(request)
    if request.method == "GET":
        reference = format_reference(number, settings.SERVICEDESK_TICKET_PREFIX) if number else ""
        other = request.user.is_authenticated and request.user.pk != user.pk
        return render(request, "portal/enter.html", {"reference": reference, "someone_else": other})
    with transaction.atomic():
        if not _use_up(user):
            return _bad_link(request)
    if request.user.is_authenticated and request.user.pk != user.pk:
        auth.logout(request)  # whoever was signed in in this browser is not the link's owner
    auth.login(request, user, backend="servicedesk.accounts.backends.AccountBackend")
    return redirect(_ticket_page(number))


class StatusForm(forms.Form):
    number = forms.CharField(
        label=_("Ticket number"),
        max_length=40,
        help_text=_("As in our emails, such as SD-10042."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("The address that opened the ticket."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_number(self) -> int:
        number = parse_reference(self.cleaned_data["number"], settings.SERVICEDESK_TICKET_PREFIX)
        if number is None:
            raise forms.ValidationError(
                _("That is not a ticket number. Write it as in our emails, such as SD-10042."),
                code="invalid_number",
            )
        return number


def _count_lookup(request, number: int) -> bool:
    """Record one look-up; True when it is within the hourly limits for its client address
    and its number. Recorded first and counted after, so that look-ups made at the same
    moment cannot all slip under the limit."""
    now = clock.now()
    address = (client_address(request) or "")[:64]
    StatusLookup.objects.filter(at__lt=now - WINDOW).delete()  # the window slides on
    StatusLookup.objects.create(at=now, address=address, number=number)
    recent = StatusLookup.objects.filter(at__gt=now - WINDOW)
    limit = settings.SERVICEDESK_STATUS_LOOKUPS_PER_HOUR
    return (
        recent.filter(address=address).count() <= limit
        and recent.filter(number=number).count() <= limit
    )


def _requested_ticket(number: int, email: str) -> Ticket | None:
    """The ticket ``number`` if ``email`` is its requester's (a customer's), else None."""
    ticket = Ticket.objects.filter(number=number).select_related("requester").first()
    if ticket is None:
        return None
    requester = ticket.requester
    if requester.is_staff or requester.email.lower() != email.strip().lower():
        return None
    return ticket


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def status(request):
    form = StatusForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        return render(
            request,
            "portal/status.html",
            {"form": form},
            status=400 if request.method == "POST" else 200,
        )
    number = form.cleaned_data["number"]
    with transaction.atomic():
        if _count_lookup(request, number):
            ticket = _requested_ticket(number, form.cleaned_data["email"])
            if ticket is not None:
                mail_status_link(ticket=ticket)
    # The same page whatever happened: it must not tell a stranger anything.
    reference = format_reference(number, settings.SERVICEDESK_TICKET_PREFIX)
    return render(request, "portal/status_sent.html", {"reference": reference})


urlpatterns = [path("enter/<str:token>/", enter, name="enter")]
