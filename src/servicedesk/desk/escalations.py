"""The desk's escalation pages (issue 15): escalate a ticket up a level or out to a vendor,
bring it back down or back from the vendor, log the vendor's answer and bug, and follow up
the releases that ship fixes. Thin: each view parses a form, calls one service of
``escalation.services`` (or ``tickets.services.respond``) and shows refusals as they are."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicedesk.core.errors import DomainError
from servicedesk.desk import escalation_panel
from servicedesk.desk.escalation_forms import (
    AnswerForm,
    BugForm,
    DeEscalateForm,
    InternalEscalationForm,
    ReturnForm,
    TellRequestersForm,
    VendorEscalationForm,
)
from servicedesk.desk.views import _refused, _ticket_or_404, fill_placeholders, staff_required
from servicedesk.escalation import selectors, services
from servicedesk.escalation.models import Escalation, EscalationKind, Release
from servicedesk.tickets import selectors as ticket_selectors
from servicedesk.tickets import services as tickets
from servicedesk.tickets.models import Ticket

# -- escalate -------------------------------------------------------------------------------


def _escalate_page(request, ticket: Ticket, *, internal=None, vendor=None, status=200):
    context = {
        "ticket": ticket,
        "level": selectors.current_level(ticket),
        "internal": internal or InternalEscalationForm(auto_id="internal-%s"),
        "vendor": vendor or VendorEscalationForm(ticket=ticket, auto_id="vendor-%s"),
        "has_steps": bool(ticket.steps_to_reproduce.strip()),
        "attachment_count": ticket.attachments.count(),
    }
    return render(request, "desk/escalate.html", context, status=status)


def _escalate_internal(request, ticket: Ticket):
    form = InternalEscalationForm(request.POST, auto_id="internal-%s")
    if not form.is_valid():
        return _escalate_page(request, ticket, internal=form, status=400)
    data = form.cleaned_data
    try:
        escalation = services.escalate_internal(
            ticket=ticket,
            to_level=data["to_level"],
            group=data["group"],
            reason=data["reason"],
            by=request.user,
            notify_customer=data["notify_customer"],
            no_notice_reason=data["no_notice_reason"],
            next_update_by=data["next_update_by"],
        )
    except DomainError as error:
        form.add_error(None, error.localized())
        return _escalate_page(request, ticket, internal=form, status=409)
    messages.success(request, _("Escalated to %(target)s.") % {"target": escalation.group.name})
    return redirect("desk:ticket", number=ticket.number)


def _escalate_to_vendor(request, ticket: Ticket):
    form = VendorEscalationForm(request.POST, ticket=ticket, auto_id="vendor-%s")
    if not form.is_valid():
        return _escalate_page(request, ticket, vendor=form, status=400)
    data = form.cleaned_data
    try:
        escalation = services.escalate_to_vendor(
            ticket=ticket,
            vendor=data["vendor"],
            reason=data["reason"],
            by=request.user,
            reference=data["reference"],
            contact=data["contact"],
            channel=data["channel"],
            promised_by=data["promised_by"],
            sent_comments=[c.pk for c in data["comments"]],
            sent_attachments=[a.pk for a in data["attachments"]],
            contract=data["contract"],
            notify_customer=data["notify_customer"],
            no_notice_reason=data["no_notice_reason"],
            next_update_by=data["next_update_by"],
        )
    except DomainError as error:
        form.add_error(None, error.localized())
        return _escalate_page(request, ticket, vendor=form, status=409)
    messages.success(request, _("Escalated to %(target)s.") % {"target": escalation.target})
    return redirect("desk:ticket", number=ticket.number)


@require_http_methods(["GET", "POST"])
@staff_required
def escalate(request, number: str):
    """The escalate page: up a support level, or out to a vendor choosing what to send."""
    ticket = _ticket_or_404(request, number)
    if request.method == "GET":
        return _escalate_page(request, ticket)
    if request.POST.get("kind") == EscalationKind.VENDOR:
        return _escalate_to_vendor(request, ticket)
    return _escalate_internal(request, ticket)


@require_POST
@staff_required
def de_escalate(request, number: str):
    ticket = _ticket_or_404(request, number)
    form = DeEscalateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the ticket goes back down."))
        return redirect("desk:ticket", number=ticket.number)
    try:
        services.de_escalate(ticket=ticket, reason=form.cleaned_data["reason"], by=request.user)
        messages.success(request, _("Back down a level."))
    except DomainError as error:
        _refused(request, error)
    return redirect("desk:ticket", number=ticket.number)


# -- a vendor escalation --------------------------------------------------------------------


def _escalation_or_404(request, number: str, pk: int) -> Escalation:
    ticket = _ticket_or_404(request, number)
    found = (
        Escalation.objects.visible_to(request.user)
        .select_related("ticket", "vendor")
        .filter(pk=pk, ticket=ticket)
        .first()
    )
    if found is None:
        raise Http404
    return found


@require_POST
@staff_required
def return_from_vendor(request, number: str, pk: int):
    escalation = _escalation_or_404(request, number, pk)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            services.return_from_vendor(
                escalation=escalation,
                by=request.user,
                reason=form.cleaned_data["reason"],
                to_status=form.cleaned_data["to_status"],
            )
            messages.success(request, _("Back from %(vendor)s.") % {"vendor": escalation.target})
        except DomainError as error:
            _refused(request, error)
    else:
        messages.error(request, _("Choose the status the ticket goes back to."))
    return redirect("desk:ticket", number=escalation.ticket.number)


@require_POST
@staff_required
def vendor_answer(request, number: str, pk: int):
    """The vendor answered by phone or on their portal: log when (their response time)."""
    escalation = _escalation_or_404(request, number, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.record_vendor_answer(
                escalation=escalation, at=form.cleaned_data["at"], by=request.user
            )
            messages.success(request, _("The vendor's answer is recorded."))
        except DomainError as error:
            _refused(request, error)
    else:
        messages.error(request, _("Give the date and time of the answer, or leave it empty."))
    return redirect("desk:ticket", number=escalation.ticket.number)


@require_POST
@staff_required
def record_bug(request, number: str, pk: int):
    """The vendor confirmed a bug: its reference and the release that fixes it (picked from
    the vendor's, or named here and created)."""
    escalation = _escalation_or_404(request, number, pk)
    form = BugForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the vendor's bug reference."))
        return redirect("desk:ticket", number=escalation.ticket.number)
    data = form.cleaned_data
    release = None
    if data["release"] and escalation.vendor_id:
        release = Release.objects.filter(pk=data["release"], vendor=escalation.vendor_id).first()
    try:
        with transaction.atomic():
            if release is None and data["new_release"].strip() and escalation.vendor:
                release = services.add_release(
                    vendor=escalation.vendor, name=data["new_release"], by=request.user
                )
            services.record_bug(
                escalation=escalation,
                bug_reference=data["bug_reference"],
                release=release,
                by=request.user,
            )
        messages.success(request, _("The bug is recorded."))
    except DomainError as error:
        _refused(request, error)
    return redirect("desk:ticket", number=escalation.ticket.number)


# -- releases -------------------------------------------------------------------------------


@require_GET
@staff_required
def releases(request):
    """Every release by vendor, shipped or not, with the tickets waiting on each."""
    rows = list(Release.objects.select_related("vendor").order_by("vendor__name", "name"))
    waiting = escalation_panel.waiting_by_release(rows)
    vendors: dict[str, list] = {}
    for release in rows:
        vendors.setdefault(release.vendor.name, []).append((release, waiting[release.pk]))
    return render(
        request, "desk/releases.html", {"vendors": vendors.items(), "section": "releases"}
    )


def _release_or_404(pk: int) -> Release:
    return get_object_or_404(Release.objects.select_related("vendor"), pk=pk)


@require_POST
@staff_required
def ship_release(request, pk: int):
    release = _release_or_404(pk)
    try:
        waiting = services.mark_release_shipped(release=release, by=request.user)
    except DomainError as error:
        _refused(request, error)
        return redirect("desk:releases")
    messages.success(
        request,
        ngettext(
            "%(release)s is shipped: %(count)d ticket waits on it.",
            "%(release)s is shipped: %(count)d tickets wait on it.",
            len(waiting),
        )
        % {"release": release, "count": len(waiting)},
    )
    return redirect("desk:release", pk=release.pk)


def _default_text(release: Release) -> str:
    return _(
        "Hello {requester_name},\n\nThe fix for {bug} is released in %(release)s. "
        "Please let us know whether it solves the problem for you.\n\n{agent}"
    ) % {"release": release}


def _follow_up_page(request, release: Release, *, form=None, status=200):
    waiting = escalation_panel.waiting_on(release)
    form = form or TellRequestersForm(
        initial={"body": _default_text(release), "tickets": [t.number for t in waiting]},
        numbers=[t.number for t in waiting],
    )
    chosen = {str(n) for n in (form["tickets"].value() or [])}
    return render(
        request,
        "desk/release.html",
        {
            "release": release,
            "waiting": waiting,
            "form": form,
            "chosen": chosen,
            "section": "releases",
        },
        status=status,
    )


@require_GET
@staff_required
def release_page(request, pk: int):
    """The tickets waiting on a release, for follow-up once it ships."""
    return _follow_up_page(request, _release_or_404(pk))


@require_POST
@staff_required
def tell_requesters(request, pk: int):
    """One public reply on each selected ticket, each through ``tickets.services.respond``;
    refusals per ticket, as the queue's bulk actions."""
    release = _release_or_404(pk)
    waiting = {t.number: t for t in escalation_panel.waiting_on(release)}
    numbers = [n for n in request.POST.getlist("tickets") if n.isascii() and n.isdigit()]
    data = request.POST.copy()
    data.setlist("tickets", [n for n in numbers if int(n) in waiting])
    form = TellRequestersForm(data, numbers=list(waiting))
    if not form.is_valid():
        messages.error(request, _("Choose tickets and write the reply."))
        return _follow_up_page(request, release, form=form, status=400)
    done = 0
    refused = [
        _("%(ticket)s: no longer waiting on this release.") % {"ticket": n}
        for n in numbers
        if int(n) not in waiting
    ]
    visible = ticket_selectors.tickets_for(request.user).filter(
        number__in=form.cleaned_data["tickets"]
    )
    for ticket in visible.select_related("requester").order_by("number"):
        body = fill_placeholders(
            form.cleaned_data["body"],
            requester_name=ticket.requester.display_name,
            ticket=ticket.reference,
            subject=ticket.subject,
            bug=", ".join(waiting[ticket.number].bug_references) or ticket.subject,
            agent=request.user.display_name,
        )
        try:
            tickets.respond(ticket=ticket, author=request.user, body=body)
            done += 1
        except DomainError as error:
            refused.append(f"{ticket.reference}: {error.localized()}")
    if done:
        messages.success(
            request,
            ngettext("%(count)d requester told.", "%(count)d requesters told.", done)
            % {"count": done},
        )
    for line in refused:
        messages.error(request, line)
    return redirect("desk:release", pk=release.pk)
