"""The agent's pages: queues, the ticket as a conversation, and its actions. Thin: each view
parses a form, calls one service of ``tickets.services``, and renders a page (or, for htmx,
the part that changed). A service's refusal is shown with its reason; nothing else decides."""

from datetime import datetime
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from servicedesk.core import clock, config_cache
from servicedesk.core.errors import DomainError
from servicedesk.core.prepared import Prepared
from servicedesk.desk import (
    change_panel,
    escalation_panel,
    history,
    presence,
    queues,
    satellites,
)
from servicedesk.desk.forms import (
    AssignForm,
    BulkForm,
    ComposerForm,
    FilterForm,
    LinkForm,
    SavedFilterForm,
    StatusForm,
    TriageForm,
    blank_once,
    labelled_fields,
)
from servicedesk.desk.models import Macro, SavedFilter
from servicedesk.sla import selectors as sla_selectors
from servicedesk.tickets import selectors, services
from servicedesk.tickets.models import Channel, StatusChoices, Ticket, TicketLink
from servicedesk.tickets.references import parse_reference
from servicedesk.tickets.workflow import Actor, Status, allowed_targets

PAGE_SIZE = 25
SORTS = {
    "sla": [F("sla_due_at").asc(nulls_last=True), "number"],
    "number": ["number"],
    "-number": ["-number"],
    "created": ["created_at", "number"],
    "-created": ["-created_at", "-number"],
    "updated": ["updated_at", "number"],
    "-updated": ["-updated_at", "-number"],
    "score": [F("score").desc(nulls_last=True), "number"],
}


def staff_required(view):
    """Desk pages are for signed-in staff; anyone else signed in gets a 404, never a 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("signin"))
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _refused(request, error: DomainError) -> None:
    messages.error(request, error.localized())


# -- queues ---------------------------------------------------------------------------------


_SAVED_FILTERS = Prepared(  # the agent's own and the shared ones, on every queue page
    lambda agent_id: SavedFilter.objects.filter(Q(owner_id=agent_id) | Q(shared=True)).only(
        "name", "query", "shared", "owner"
    )
)


def _filtered(rows, form: FilterForm):
    if not form.is_valid():
        return rows
    data = form.cleaned_data
    if data["status"]:
        rows = rows.filter(status__in=data["status"])
    for name in ("priority", "channel"):
        if data[name]:
            rows = rows.filter(**{name: data[name]})
    for name in ("group", "assignee", "product", "category"):
        if data[name] is not None:
            rows = rows.filter(**{name: data[name]})
    if data["organisation"]:
        rows = rows.filter(organisation_id=data["organisation"])
    if data["q"]:
        words = data["q"].split()
        for word in words[:8]:
            rows = rows.filter(Q(subject__icontains=word) | Q(description__icontains=word))
    return rows


def _filter_fields(form: FilterForm) -> str:
    return format_html_join(
        "",
        '<div class="field"><label for="{}">{}</label>{}</div>',
        ((field.id_for_label, field.label, field) for field in form),
    )


def _save_filter_fields() -> str:
    form = SavedFilterForm()
    return format_html(
        "{}\n        <label>{} {}</label>",
        labelled_fields(form, ("name",)),
        form["shared"],
        form["shared"].label,
    )


def _blank_forms() -> dict[str, str]:
    """The queue's empty filter and bulk-action fields as HTML, in the reader's language:
    the same on every page until the configuration changes (memoised with it)."""

    def render() -> dict[str, str]:
        bulk = BulkForm(auto_id="bulk-%s")
        return {
            "filter_fields": _filter_fields(FilterForm()),
            **{
                f"bulk_{name}": str(bulk[name])
                for name in ("assignee", "status", "urgency", "impact")
            },
        }

    return blank_once("desk-queue-forms", render)


@require_GET
@staff_required
def queue(request, slug: str = queues.DEFAULT):
    current = queues.BY_SLUG.get(slug)
    if current is None:
        raise Http404
    now = clock.now()
    form = FilterForm(request.GET or None)
    sort = request.GET.get("sort", current.default_sort)
    everything = queues.tickets(request.user, current, now=now)
    rows = _filtered(everything, form)
    unfiltered = rows is everything
    rows = rows.order_by(*(current.sorts.get(sort) or SORTS.get(sort, SORTS["sla"])))
    counts = queues.counts(request.user, now=now)
    paginator = Paginator(rows, PAGE_SIZE)
    if unfiltered:  # the queue's count, already read, is the list's length: not read again
        paginator.count = counts[current.slug]
    page = paginator.get_page(request.GET.get("page"))
    tickets = list(page.object_list)
    cells = queues.sla_cells(tickets, now=now)
    keep = request.GET.copy()
    keep.pop("page", None)
    sort_query = keep.copy()
    sort_query.pop("sort", None)
    context = {
        "queues": queues.QUEUES,
        "current": current,
        "counts": counts,
        "page": page,
        "rows": [(t, cells[t.pk]) for t in tickets],
        "vendor_column": current.slug == "waiting-vendor",
        "form": form,
        **({"filter_fields": _filter_fields(form)} if form.is_bound else {}),
        "sort": sort,
        "query": keep.urlencode(),
        "sort_query": sort_query.urlencode(),
        "saved": _SAVED_FILTERS(request.user.pk),
        "save_fields": blank_once("desk-save-filter", _save_filter_fields),
        "priorities": selectors.priority_labels(),
        **_blank_forms(),
    }
    return render(request, "desk/queue.html", context)


@require_POST
@staff_required
def save_filter(request):
    form = SavedFilterForm(request.POST)
    if form.is_valid():
        SavedFilter.objects.create(owner=request.user, **form.cleaned_data)
        messages.success(request, _("Filter saved."))
        return redirect(f"{reverse('desk:queue')}?{form.cleaned_data['query']}")
    messages.error(request, _("A saved filter needs a name."))
    return redirect("desk:queue")


@require_POST
@staff_required
def delete_filter(request, pk: int):
    SavedFilter.objects.filter(pk=pk, owner=request.user).delete()
    return redirect("desk:queue")


@require_POST
@staff_required
def bulk(request):
    """One action on the selected tickets, each through its service; refusals per ticket."""
    numbers = [n for n in request.POST.getlist("tickets") if n.isascii() and n.isdigit()]
    form = BulkForm(request.POST, numbers=numbers)
    back = request.POST.get("back") or reverse("desk:queue")
    if not back.startswith("/desk/"):
        back = reverse("desk:queue")
    if not form.is_valid():
        messages.error(request, _("Choose tickets and an action."))
        return redirect(back)
    data = form.cleaned_data
    done, refused = 0, []
    for ticket in selectors.tickets_for(request.user).filter(number__in=data["tickets"]):
        try:
            if data["action"] == "assign":
                services.assign(ticket=ticket, assignee=data["assignee"], by=request.user)
            elif data["action"] == "status":
                services.change_status(ticket=ticket, to=data["status"], by=request.user)
            else:
                services.confirm_triage(
                    ticket=ticket, urgency=data["urgency"], impact=data["impact"], by=request.user
                )
            done += 1
        except DomainError as error:
            refused.append(f"{ticket.reference}: {error.localized()}")
    if done:
        messages.success(
            request,
            ngettext("%(count)d ticket changed.", "%(count)d tickets changed.", done)
            % {"count": done},
        )
    for line in refused:
        messages.error(request, line)
    return redirect(back)


# -- the ticket -----------------------------------------------------------------------------


def _number(text: str) -> int | None:
    return parse_reference(text, settings.SERVICEDESK_TICKET_PREFIX)


def _ticket_or_404(request, number: str) -> Ticket:
    parsed = _number(number)
    if parsed is None:
        raise Http404
    try:
        return selectors.get_ticket(user=request.user, number=parsed)
    except DomainError:
        raise Http404 from None


def _version(ticket: Ticket) -> str:
    return ticket.updated_at.isoformat()


def _macros() -> tuple[Macro, ...]:
    """The canned replies' names for the composer's list (configuration: memoised)."""
    return config_cache.memo("desk-macros", lambda: tuple(Macro.objects.only("pk", "name")))


def _links(ticket: Ticket) -> list[TicketLink]:
    """The ticket's links, those it makes first, then those made to it: one query (of the
    other tickets, only their numbers: the page shows their references)."""
    rows = list(
        TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
        .select_related("source", "target")
        .only("kind", "source__number", "target__number")
        .order_by("pk")
    )
    return [r for r in rows if r.source_id == ticket.pk] + [
        r for r in rows if r.source_id != ticket.pk
    ]


# The organisation's other open tickets, newest first (staff see them all): only what the
# list shows, read on every ticket page, so prepared.
_OTHER_OPEN = Prepared(
    lambda organisation_id, ticket_id: (
        Ticket.objects.filter(organisation_id=organisation_id, status__in=queues.OPEN)
        .exclude(pk=ticket_id)
        .only("number", "subject")
        .order_by("-created_at")[:5]
    )
)


def _composer_fields(composer: ComposerForm | None) -> dict[str, str]:
    """The composer's kind and message: an empty composer's rendered once per language."""

    def render(form: ComposerForm) -> dict[str, str]:
        return {
            "kind": render_to_string("desk/_composer_kind.html", {"form": form}),
            "body": labelled_fields(form, ("body",)),
        }

    if composer is not None:  # carrying text, a choice or errors: as it is
        return render(composer)
    return blank_once("desk-composer", lambda: render(ComposerForm(initial={"kind": "reply"})))


def _page_context(request, ticket: Ticket, *, composer: ComposerForm | None = None) -> dict:
    now = clock.now()
    statuses = allowed_targets(Status(ticket.status), actor=Actor.STAFF)
    thread = selectors.staff_thread(ticket)
    organisation = ticket.organisation
    others = _OTHER_OPEN(organisation.pk, ticket.pk) if organisation is not None else []
    proposed, confirmed = ticket.proposed_triage, ticket.confirmed_triage
    start = confirmed or proposed or (2, 2)
    has = satellites.of(ticket)
    return {
        "ticket": ticket,
        "thread": thread,
        "statuses": statuses,
        "labels": dict(StatusChoices.choices),
        "assign_form": AssignForm(
            initial={"assignee": ticket.assignee_id, "group": ticket.group_id}
        ),
        "triage_form": TriageForm(initial={"urgency": start[0], "impact": start[1]}),
        "proposed": proposed and selectors.assessment(*proposed),
        "confirmed": confirmed and selectors.assessment(*confirmed),
        "bands": selectors.triage_bands(),
        "composer": composer
        or ComposerForm(initial={"seen": _version(ticket), "kind": "reply"}, statuses=statuses),
        "composer_fields": _composer_fields(composer),
        "clocks": sla_selectors.ticket_sla(ticket, now=now).values(),
        "others": others,
        "organisation": organisation,
        "priorities": selectors.priority_labels(),
        "link_fields": blank_once(
            "desk-link-fields", lambda: labelled_fields(LinkForm(), ("kind", "target"))
        ),
        "macros": _macros(),
        "links": _links(ticket) if has.links else [],
        "ratings": ticket.ratings.select_related("by").only(
            "value", "comment", "created_at", "by__full_name", "by__email"
        )
        if has.ratings
        else [],
        **escalation_panel.panel(ticket, now=now, any_escalation=has.escalations),
        **change_panel.panel(ticket, became_one=has.change),
    }


@require_GET
@staff_required
def ticket_page(request, number: str):
    ticket = _ticket_or_404(request, number)
    if not number.isdigit():  # SD-10042 and the like: the canonical address
        return redirect("desk:ticket", number=ticket.number)
    # Presence is recorded by the page's first poll (hx-trigger "load"), not here: a page
    # view writes nothing. That poll answers who else is here, so the page does not read it.
    return render(request, "desk/ticket.html", _page_context(request, ticket))


def _part(request, ticket: Ticket, template: str, context: dict):
    """A part of the ticket page loaded when opened (htmx), or as a page of its own."""
    if request.headers.get("HX-Request"):
        return render(request, template, context)
    return render(request, "desk/ticket_part.html", {**context, "ticket": ticket, "part": template})


@require_GET
@staff_required
def explain(request, number: str):
    """Why each due time is what it is (the ``sla explain`` breakdown)."""
    ticket = _ticket_or_404(request, number)
    breakdown = sla_selectors.explain(ticket, now=clock.now())
    return _part(request, ticket, "desk/_explain.html", {"explain": breakdown})


@require_GET
@staff_required
def ticket_history(request, number: str):
    """The ticket's history in words."""
    ticket = _ticket_or_404(request, number)
    events = selectors.history(user=request.user, ticket=ticket)
    return _part(request, ticket, "desk/_history.html", {"history": history.lines(events)})


def _changes_since(request, ticket: Ticket, seen: str) -> list[history.Line]:
    try:
        since = datetime.fromisoformat(seen)
    except ValueError:
        return []
    return history.lines(selectors.history(user=request.user, ticket=ticket).filter(at__gt=since))


@require_POST
@staff_required
def reply(request, number: str):
    """Reply or note, with attachments, optionally moving the status in the same change. A
    reply to a ticket that changed since the page was loaded is stopped with what changed."""
    ticket = _ticket_or_404(request, number)
    statuses = allowed_targets(Status(ticket.status), actor=Actor.STAFF)
    form = ComposerForm(request.POST, request.FILES, statuses=statuses)
    if not form.is_valid():
        return render(
            request, "desk/ticket.html", _page_context(request, ticket, composer=form), status=400
        )
    data = form.cleaned_data
    if data["seen"] != _version(ticket) and not data["send_anyway"]:
        fresh = ComposerForm(
            initial={**data, "seen": _version(ticket), "send_anyway": True}, statuses=statuses
        )
        context = _page_context(request, ticket, composer=fresh)
        context["stale"] = _changes_since(request, ticket, data["seen"])
        return render(request, "desk/ticket.html", context, status=409)
    uploads = services.Upload.from_files(request.FILES.getlist("attachments"))
    try:
        services.respond(
            ticket=ticket,
            author=request.user,
            body=data["body"],
            internal=data["kind"] == "note",
            channel=Channel.DESK,
            uploads=uploads,
            then_status=data["then_status"] or None,
        )
    except DomainError as error:
        _refused(request, error)
        context = _page_context(request, ticket, composer=form)
        return render(request, "desk/ticket.html", context, status=409)
    presence.stopped_typing(ticket, request.user)
    if data["kind"] == "note":
        messages.success(request, _("Note added."))
    else:
        messages.success(request, _("Reply sent."))
    return redirect("desk:ticket", number=ticket.number)


@require_POST
@staff_required
def change_status(request, number: str):
    ticket = _ticket_or_404(request, number)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.change_status(
                ticket=ticket,
                to=form.cleaned_data["to"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, _("Status changed."))
        except DomainError as error:
            _refused(request, error)
    else:
        messages.error(request, _("Choose a status."))
    return redirect("desk:ticket", number=ticket.number)


@require_POST
@staff_required
def assign(request, number: str):
    ticket = _ticket_or_404(request, number)
    if request.POST.get("to") == "me":
        form = AssignForm({"assignee": request.user.pk, "group": ticket.group_id or ""})
    else:
        form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an agent or a group."))
        return redirect("desk:ticket", number=ticket.number)
    try:
        with transaction.atomic():
            group = form.cleaned_data["group"]
            if group is not None and group.pk != ticket.group_id:
                ticket = services.move_to_group(ticket=ticket, group=group, by=request.user)
            services.assign(ticket=ticket, assignee=form.cleaned_data["assignee"], by=request.user)
        messages.success(request, _("Assignment saved."))
    except DomainError as error:
        _refused(request, error)
    return redirect("desk:ticket", number=ticket.number)


@require_POST
@staff_required
def confirm_triage(request, number: str):
    ticket = _ticket_or_404(request, number)
    form = TriageForm(request.POST)
    if form.is_valid():
        try:
            services.confirm_triage(ticket=ticket, by=request.user, **form.cleaned_data)
            messages.success(request, _("Triage confirmed."))
        except DomainError as error:
            _refused(request, error)
    else:
        messages.error(request, _("Choose an urgency and an impact."))
    return redirect("desk:ticket", number=ticket.number)


@require_GET
@staff_required
def triage_preview(request):
    """The score and priority of an urgency and impact, as the agent chooses them (htmx)."""
    form = TriageForm(request.GET)
    result = (
        selectors.assessment(form.cleaned_data["urgency"], form.cleaned_data["impact"])
        if (form.is_valid())
        else None
    )
    return render(request, "desk/_triage_preview.html", {"result": result})


@require_POST
@staff_required
def link(request, number: str):
    ticket = _ticket_or_404(request, number)
    form = LinkForm(request.POST)
    target_number = _number(form.data.get("target", "")) if form.is_valid() else None
    target = (
        selectors.tickets_for(request.user).filter(number=target_number).first()
        if target_number
        else None
    )
    if target is None:
        messages.error(request, _("No ticket with that number."))
    else:
        try:
            services.link_tickets(
                source=ticket, target=target, kind=form.cleaned_data["kind"], by=request.user
            )
            messages.success(request, _("Linked."))
        except DomainError as error:
            _refused(request, error)
    return redirect("desk:ticket", number=ticket.number)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown placeholder stays as typed


def fill_placeholders(text: str, **values: str) -> str:
    """``text`` with its ``{name}`` placeholders filled (canned replies, the release
    follow-up); an unknown one stays as typed, and a stray brace leaves the text as it is."""
    try:
        return text.format_map(_Blank(values))
    except (ValueError, IndexError, AttributeError):
        return text


@require_GET
@staff_required
def macro(request, number: str):
    """The composer's text with a canned reply inserted, its placeholders filled (htmx)."""
    ticket = _ticket_or_404(request, number)
    wanted = request.GET.get("macro", "")
    chosen = (
        Macro.objects.filter(pk=int(wanted)).first()
        if wanted.isascii() and wanted.isdigit()
        else None
    )
    if chosen is None:
        raise Http404
    due = ticket.sla_due_at
    text = fill_placeholders(
        chosen.body,
        requester_name=ticket.requester.display_name,
        ticket=ticket.reference,
        subject=ticket.subject,
        due=history.when(due) if due else "—",
        agent=request.user.display_name,
    )
    current = request.GET.get("body", "")
    body = f"{current.rstrip()}\n\n{text}" if current.strip() else text
    return render(request, "desk/_composer_body.html", {"body": body})


@require_POST
@staff_required
def ping(request, number: str):
    """The ticket page's poll: this agent is here (typing or not); who else is (htmx)."""
    ticket = _ticket_or_404(request, number)
    now = clock.now()
    presence.seen(ticket, request.user, now=now, typing=request.POST.get("typing") == "1")
    changed = request.POST.get("seen") not in (None, "", _version(ticket))
    return render(
        request,
        "desk/_watchers.html",
        {"watchers": presence.others(ticket, request.user, now=now), "changed": changed},
    )


@require_GET
@staff_required
def go(request):
    """The search box: a ticket number goes straight to the ticket; words to the search."""
    text = request.GET.get("q", "").strip()
    number = _number(text)
    if number is not None and selectors.tickets_for(request.user).filter(number=number).exists():
        return redirect("desk:ticket", number=number)
    return redirect(f"{reverse('desk:search')}?{urlencode({'q': text})}")
