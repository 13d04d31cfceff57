"""The customer portal: the customer's tickets, one ticket as its public conversation, and a
new ticket with the triage of seed 004. Thin: each view parses a form, calls one service of
``tickets.services`` and renders a page; a service's refusal is shown with its reason.

Every ticket is found through ``visible_to`` (``tickets.selectors``): another organisation's
ticket, or a colleague's for an end user, is a 404 by every path, never a 403."""

from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicedesk.changes.models import ChangeRequest
from servicedesk.core import clock, labels
from servicedesk.core.errors import DomainError
from servicedesk.desk import history
from servicedesk.portal.forms import (
    IMPACT,
    URGENCY,
    FilterForm,
    ReopenForm,
    ReplyForm,
    TicketForm,
    TriageFields,
)
from servicedesk.sla import selectors as sla_selectors
from servicedesk.sla.models import ClockKind
from servicedesk.sla.rules import State
from servicedesk.tickets import selectors, services
from servicedesk.tickets.models import Attachment, Channel, EventKind, LinkKind, Ticket
from servicedesk.tickets.references import parse_reference
from servicedesk.tickets.workflow import ACTIVE, Status

PAGE_SIZE = 20
RUNNING = {State.OK, State.WARNING, State.BREACHED}
# The desk's own measures of itself: not part of the customer's story of their ticket.
DESK_MEASURES = [EventKind.SLA_MET, EventKind.SLA_WARNING, EventKind.SLA_BREACH]


def customer_required(view):
    """Portal pages are for signed-in customers; staff (who have the desk) get a 404."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("signin"))
        if request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _number(text: str) -> int | None:
    return parse_reference(text.strip(), settings.SERVICEDESK_TICKET_PREFIX)


def _ticket_or_404(request, number: str) -> Ticket:
    parsed = _number(number)
    if parsed is None:
        raise Http404
    try:
        return selectors.get_ticket(user=request.user, number=parsed)
    except DomainError:
        raise Http404 from None


# -- the list -------------------------------------------------------------------------------


@require_GET
@customer_required
def home(request):
    """The tickets the customer may see (their own, or their organisation's), filtered."""
    form = FilterForm(request.GET or None, user=request.user)
    rows = selectors.tickets_for(request.user).select_related("requester", "product")
    if form.is_valid():
        data = form.cleaned_data
        if data.get("requester") is not None:
            rows = rows.filter(requester=data["requester"])
        if data["status"] == "active":
            rows = rows.filter(status__in=[s.value for s in ACTIVE])
        elif data["status"]:
            rows = rows.filter(status=data["status"])
        if data["product"] is not None:
            rows = rows.filter(product=data["product"])
    page = Paginator(rows.order_by("-created_at", "-number"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    keep = request.GET.copy()
    keep.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": keep.urlencode(),
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
        "section": "list",
    }
    return render(request, "portal/home.html", context)


@require_GET
@customer_required
def go(request):
    """The "Go to ticket" box: straight to a ticket of theirs, by its number."""
    number = _number(request.GET.get("number", ""))
    if number is not None and selectors.tickets_for(request.user).filter(number=number).exists():
        return redirect("portal:ticket", number=number)
    messages.error(request, _("None of your tickets has that number."))
    return redirect("portal:home")


# -- one ticket -----------------------------------------------------------------------------


def _promise(ticket: Ticket, *, now: datetime) -> dict | None:
    """When the customer will hear from us: the running next-update clock's due time, else
    the first response's; None when nothing is promised (resolved, closed, no SLA)."""
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        return None
    if ticket.status == Status.WAITING_ON_CUSTOMER:
        return {"waiting": True}
    clocks = sla_selectors.ticket_sla(ticket, now=now)
    for kind in (ClockKind.NEXT_UPDATE, ClockKind.FIRST_RESPONSE):
        state = clocks.get(kind)
        if state is not None and state.state in RUNNING and not state.paused and state.due_at:
            return {"due": state.due_at, "late": state.due_at < now}
    return None


def _reopen_until(ticket: Ticket) -> datetime | None:
    """The end of the re-open window of a resolved or closed ticket (None: still open)."""
    if ticket.status == Status.CLOSED:
        since = ticket.closed_at
    elif ticket.status == Status.RESOLVED:
        since = ticket.resolved_at
    else:
        return None
    return since + timedelta(days=settings.SERVICEDESK_REOPEN_DAYS) if since else None


def _page_context(
    request, ticket: Ticket, *, reply: ReplyForm | None = None, reopen: ReopenForm | None = None
) -> dict:
    now = clock.now()
    proposed, confirmed = ticket.proposed_triage, ticket.confirmed_triage
    until = _reopen_until(ticket)
    ended = ticket.status in (Status.RESOLVED, Status.CLOSED)
    return {
        # The change request it became, if any (seed 000: "updated to a change request").
        "became": ChangeRequest.objects.visible_to(request.user)
        .filter(ticket=ticket)
        .only("number")
        .first(),
        "ticket": ticket,
        "thread": list(selectors.thread(user=request.user, ticket=ticket)),
        "files": Attachment.objects.visible_to(request.user).filter(
            ticket=ticket, comment__isnull=True
        ),
        "history": history.lines(
            selectors.history(user=request.user, ticket=ticket).exclude(kind__in=DESK_MEASURES)
        ),
        "zone": timezone.get_current_timezone_name(),
        "proposed": proposed and selectors.assessment(*proposed),
        "confirmed": confirmed and selectors.assessment(*confirmed),
        "promise": _promise(ticket, now=now),
        "can_reply": ticket.status != Status.CLOSED,
        "can_confirm": ticket.status == Status.RESOLVED,
        "reopen_until": until,
        "can_reopen": until is not None and now <= until,
        "too_late": until is not None and now > until,
        "reply_form": reply or ReplyForm(),
        "reopen_form": reopen or ReopenForm(),
        "ended": ended,
        "section": "ticket",
    }


@require_GET
@customer_required
def ticket_page(request, number: str):
    ticket = _ticket_or_404(request, number)
    if not number.isdigit():  # SD-10042 and the like: the canonical address
        return redirect("portal:ticket", number=ticket.number)
    return render(request, "portal/ticket.html", _page_context(request, ticket))


@require_POST
@customer_required
def reply(request, number: str):
    """A public reply, with attachments; it re-opens a resolved ticket (the service's rule)."""
    ticket = _ticket_or_404(request, number)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid() and not (
        form.cleaned_data["body"].strip() or form.cleaned_data["attachments"]
    ):
        form.add_error("body", _("Write a reply or attach a file."))
    if not form.is_valid():
        context = _page_context(request, ticket, reply=form)
        return render(request, "portal/ticket.html", context, status=400)
    try:
        services.add_comment(
            ticket=ticket,
            author=request.user,
            body=form.cleaned_data["body"],
            channel=Channel.PORTAL,
            uploads=services.Upload.from_files(form.cleaned_data["attachments"]),
        )
    except DomainError as error:
        form.add_error(None, error.localized())
        context = _page_context(request, ticket, reply=form)
        return render(request, "portal/ticket.html", context, status=409)
    messages.success(request, _("Your reply was sent."))
    return redirect("portal:ticket", number=ticket.number)


@require_POST
@customer_required
def confirm(request, number: str):
    """The customer confirms the resolution: the ticket closes (the workflow allows them)."""
    ticket = _ticket_or_404(request, number)
    try:
        services.change_status(ticket=ticket, to=Status.CLOSED, by=request.user)
    except DomainError as error:
        messages.error(request, error.localized())
    else:
        messages.success(request, _("Thank you for confirming: the ticket is closed."))
    return redirect("portal:ticket", number=ticket.number)


@require_POST
@customer_required
def reopen(request, number: str):
    """Re-open a resolved or closed ticket, with a reason, within the re-open window."""
    ticket = _ticket_or_404(request, number)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        context = _page_context(request, ticket, reopen=form)
        return render(request, "portal/ticket.html", context, status=400)
    try:
        services.reopen(
            ticket=ticket,
            by=request.user,
            reason=form.cleaned_data["reason"],
            within_days=settings.SERVICEDESK_REOPEN_DAYS,
        )
    except DomainError as error:
        messages.error(request, error.localized())
    else:
        messages.success(request, _("The ticket is open again: we will get back to you."))
    return redirect("portal:ticket", number=ticket.number)


# -- a new ticket ---------------------------------------------------------------------------


def _follow_up_initial(follows: Ticket) -> dict:
    subject = _("Follow-up to %(ticket)s: %(subject)s") % {
        "ticket": follows.reference,
        "subject": follows.subject,
    }
    description = _("This follows %(ticket)s.") % {"ticket": follows.reference}
    return {
        "subject": subject[:250],
        "description": description + "\n\n",
        "follows": follows.number,
    }


def _preview(form: TicketForm) -> dict | None:
    """The score and priority of the urgency and impact chosen so far (None: not both)."""
    triage_form = TriageFields(
        {"urgency": form["urgency"].value(), "impact": form["impact"].value()}
    )
    if not triage_form.is_valid():
        return None
    return selectors.assessment(
        triage_form.cleaned_data["urgency"], triage_form.cleaned_data["impact"]
    )


def _new_context(form: TicketForm, **extra) -> dict:
    return {
        "form": form,
        "urgency_levels": URGENCY,
        "impact_levels": IMPACT,
        "chosen_urgency": str(form["urgency"].value() or ""),
        "chosen_impact": str(form["impact"].value() or ""),
        "result": _preview(form),
        "bands": [
            (b.min_score, b.max_score, labels.shown(b.label)) for b in selectors.triage_bands()
        ],
        "section": "new",
        **extra,
    }


@require_http_methods(["GET", "POST"])
@customer_required
def new_ticket(request):
    """Submit a ticket with its triage; "check before sending" shows the priority first."""
    user = request.user
    if request.method == "GET":
        initial = {}
        follows = _number(request.GET.get("follows", ""))
        if follows is not None:
            found = selectors.tickets_for(user).filter(number=follows).first()
            if found is not None:
                initial = _follow_up_initial(found)
        form = TicketForm(initial=initial, user=user)
        return render(request, "portal/new.html", _new_context(form))

    if "check" in request.POST:  # the no-script preview: the same page, the priority shown
        form = TicketForm(initial=request.POST.dict(), user=user)  # unbound: no errors yet
        return render(request, "portal/new.html", _new_context(form, checked=True))
    form = TicketForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return render(request, "portal/new.html", _new_context(form), status=400)
    data = form.cleaned_data
    requester = data.get("requester") or user
    follows = (
        selectors.tickets_for(user).filter(number=data["follows"]).first()
        if data["follows"]
        else None
    )
    try:
        with transaction.atomic():
            ticket = services.create_ticket(
                by=user,
                requester=requester,
                subject=data["subject"],
                description=data["description"],
                channel=Channel.PORTAL,
                product=data["product"],
                category=data["category"],
                urgency=data["urgency"],
                impact=data["impact"],
                steps_to_reproduce=data["steps_to_reproduce"],
                users_affected=data["users_affected"],
                present_since=data["present_since"],
                investigations_done=data["investigations_done"],
                uploads=services.Upload.from_files(data["attachments"]),
            )
            if follows is not None:  # the desk's automation links the follow-up
                services.link_tickets(source=ticket, target=follows, kind=LinkKind.RELATED, by=None)
    except DomainError as error:
        form.add_error(None, error.localized())
        return render(request, "portal/new.html", _new_context(form), status=400)
    messages.success(
        request,
        _(
            "Thank you: your ticket %(ticket)s is logged. An acknowledgement is on its way "
            "to %(email)s."
        )
        % {"ticket": ticket.reference, "email": requester.email},
    )
    return redirect("portal:ticket", number=ticket.number)


@require_GET
@customer_required
def triage_preview(request):
    """The score and priority of an urgency and impact, as the customer chooses them (htmx)."""
    form = TriageFields(request.GET)
    result = (
        selectors.assessment(form.cleaned_data["urgency"], form.cleaned_data["impact"])
        if form.is_valid()
        else None
    )
    return render(request, "portal/_triage_preview.html", {"result": result})


urlpatterns = [
    path("", home, name="home"),
    path("go/", go, name="go"),
    path("triage/preview/", triage_preview, name="triage-preview"),
    path("tickets/new/", new_ticket, name="new"),
    path("tickets/<str:number>/", ticket_page, name="ticket"),
    path("tickets/<str:number>/reply/", reply, name="reply"),
    path("tickets/<str:number>/confirm/", confirm, name="confirm"),
    path("tickets/<str:number>/reopen/", reopen, name="reopen"),
]
