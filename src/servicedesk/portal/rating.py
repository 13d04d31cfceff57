"""Satisfaction (SPEC §8): rating a resolved or closed ticket good or bad, with a comment.

Two ways in, one service (``tickets.closing_services.rate``):

- ``rate/<token>/``, the one-click link of the resolution and closing emails. The token is
  signed and expiring (``core.links``, purpose ``rate``) and names the ticket, the person
  and the rating they clicked. GET shows what will be recorded, with a comment field and a
  button; only the POST records it, so the link scanners of mail systems never rate. A
  tampered, expired or other-purpose token, a person who no longer takes part in the
  ticket, or a token of someone else opened while signed in: 404, nothing changed.
- ``tickets/<number>/rate/``, the form of ``portal/_rating.html`` on the portal's ticket
  page, for the signed-in customer (POST only; another organisation's ticket is a 404).
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from servicedesk.accounts.models import User
from servicedesk.core import links
from servicedesk.core.errors import DomainError
from servicedesk.tickets import selectors
from servicedesk.tickets.closing_services import may_rate, rate
from servicedesk.tickets.models import RatingValue, Ticket
from servicedesk.tickets.references import parse_reference

RATE = "rate"  # the purpose of rating tokens (core.links)
COMMENT_LENGTH = 2000


def rating_token(ticket: Ticket, person: User, value: str) -> str:
    """A signed token that lets ``person`` rate ``ticket`` ``value`` (good or bad)."""
    return links.sign(RATE, {"t": ticket.pk, "u": person.pk, "v": value})


def rating_link(ticket: Ticket, person: User, value: str) -> str:
    """The absolute address of the one-click rating page, for emails."""
    return links.absolute(reverse("portal:rate", args=[rating_token(ticket, person, value)]))


class RatingForm(forms.Form):
    value = forms.ChoiceField(
        label=gettext_lazy("Your rating"), choices=RatingValue.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        required=False,
        max_length=COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def _from_token(request, token: str) -> tuple[Ticket, User, str]:
    """The ticket, person and rating a valid rating token names; 404 for anything else."""
    try:
        payload = links.unsign(RATE, token, max_age=timedelta(days=settings.SERVICEDESK_LINK_DAYS))
    except links.BadLink:
        raise Http404 from None
    value = payload.get("v")
    person = User.objects.filter(pk=payload.get("u"), is_active=True, is_staff=False).first()
    ticket = Ticket.objects.filter(pk=payload.get("t")).first()
    if value not in RatingValue.values or person is None or ticket is None:
        raise Http404
    if request.user.is_authenticated and request.user.pk != person.pk:
        raise Http404  # someone else's link: it is not theirs to use
    if not may_rate(ticket, person):
        raise Http404
    return ticket, person, value


@require_http_methods(["GET", "POST"])
def rate_by_link(request, token: str):
    """GET: what the click will record, and a comment field; POST: record it, thank."""
    ticket, person, value = _from_token(request, token)
    if not request.user.is_authenticated:  # one click from their email: their language
        translation.activate(person.language or settings.LANGUAGE_CODE)
    if request.method == "GET":
        form = RatingForm(initial={"value": value})
        return render(request, "portal/rate.html", {"form": form, "ticket": ticket})
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            rate(
                ticket=ticket,
                by=person,
                value=form.cleaned_data["value"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as error:
            form.add_error(None, error.localized())
        else:
            return render(request, "portal/rate.html", {"ticket": ticket, "done": True})
    return render(request, "portal/rate.html", {"form": form, "ticket": ticket}, status=400)


def _ticket_page(ticket: Ticket) -> str:
    return reverse("portal:ticket", args=[ticket.number])


@require_POST
def rate_ticket(request, number: str):
    """The portal's rating form, for a signed-in customer who may see the ticket."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("signin"))
    parsed = parse_reference(number, settings.SERVICEDESK_TICKET_PREFIX)
    if parsed is None or request.user.is_staff:
        raise Http404
    try:
        ticket = selectors.get_ticket(user=request.user, number=parsed)
    except DomainError:
        raise Http404 from None
    if not may_rate(ticket, request.user):
        raise Http404
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose good or bad to rate the ticket."))
        return redirect(_ticket_page(ticket))
    try:
        rate(
            ticket=ticket,
            by=request.user,
            value=form.cleaned_data["value"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as error:
        messages.error(request, error.localized())
    else:
        messages.success(request, _("Thank you for your rating."))
    return redirect(_ticket_page(ticket))


urlpatterns = [
    path("rate/<str:token>/", rate_by_link, name="rate"),
    path("tickets/<str:number>/rate/", rate_ticket, name="rate-ticket"),
]
