"""Log a call: the caller (found by email, or a new contact), what they said and the triage
questions of seed 004, filed as a phone ticket through ``tickets.services.create_ticket``."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from servicedesk.accounts.models import User
from servicedesk.accounts.services import contact_for_email
from servicedesk.core.errors import DomainError
from servicedesk.desk.forms import CallForm
from servicedesk.desk.views import staff_required
from servicedesk.tickets import services
from servicedesk.tickets.models import Channel


@require_http_methods(["GET", "POST"])
@staff_required
def log_call(request):
    form = CallForm(request.POST or None, initial={"urgency": 2, "impact": 1})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # a refusal leaves no new contact behind
                requester = contact_for_email(data["requester_email"], name=data["requester_name"])
                ticket = services.create_ticket(
                    by=request.user,
                    requester=requester,
                    subject=data["subject"],
                    channel=Channel.PHONE,
                    description=data["description"],
                    product=data["product"],
                    urgency=data["urgency"],
                    impact=data["impact"],
                )
        except DomainError as error:
            messages.error(request, error.localized())
        else:
            messages.success(
                request, _("Call logged as %(ticket)s.") % {"ticket": ticket.reference}
            )
            return redirect("desk:ticket", number=ticket.number)
    callers = User.objects.filter(is_staff=False, is_active=True).select_related("organisation")
    return render(
        request,
        "desk/call.html",
        {"form": form, "callers": callers.order_by("email")[:500]},
        status=400 if request.method == "POST" else 200,
    )
