"""/api/v1/tickets: file, list, read, change; replies, triage, status, assignment, links."""

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_noop
from ninja import Path, Query, Router
from ninja import Status as Answer

from servicedesk.accounts.models import Group, Organisation, User
from servicedesk.accounts.services import contact_for_email
from servicedesk.api import present
from servicedesk.api.common import (
    CHANGE_ERRORS,
    ERRORS,
    InvalidReference,
    caller,
    etag,
    locked_ticket,
    reference,
    require_staff,
    ticket_number,
)
from servicedesk.api.schemas import (
    AssignmentIn,
    Id,
    Instant,
    LinkIn,
    LinkOut,
    ReplyIn,
    ReplyOut,
    StatusIn,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketPatch,
    TriageIn,
    storable,
)
from servicedesk.core.errors import DomainError, NotFound
from servicedesk.search import query as search
from servicedesk.sla import selectors as sla_selectors
from servicedesk.tickets import selectors, services
from servicedesk.tickets.models import Category, Channel, Product, Ticket, TicketLink
from servicedesk.tickets.references import format_reference, parse_reference
from servicedesk.tickets.views import attachment_response
from servicedesk.tickets.workflow import Status

router = Router()

# Every path names a ticket the way people do; one that is no reference is a 404 (common).
_EXAMPLE = format_reference(10064, settings.SERVICEDESK_TICKET_PREFIX)
TicketPath = Annotated[
    str,
    Path(
        description=f"The ticket's number (`10064`) or reference (`{_EXAMPLE}`).",
        examples=[_EXAMPLE, "10064"],
    ),
]


class InvalidQuery(DomainError):
    code = "invalid_query"


def _present_one(request, response: HttpResponse, number: int, *, explain=False) -> dict:
    ticket = selectors.get_ticket(user=caller(request), number=number)
    response["ETag"] = etag(ticket)
    data = present.tickets([ticket], viewer=caller(request))[0]
    if explain:  # a few queries per clock: a single read only, never a list
        data["sla"]["explain"] = sla_selectors.explain(
            ticket,
            internal=caller(request).is_staff,  # an OLA is the desk's own
        )
    return data


# -- filing and reading ---------------------------------------------------------------------


def _file(user: User, data: TicketIn) -> Ticket:
    if user.is_staff:
        if not data.requester_email:
            raise InvalidReference(
                gettext_noop("requester_email: staff file tickets on a customer's behalf.")
            )
        requester = contact_for_email(data.requester_email, name=data.requester_name)
    elif data.requester_email and data.requester_email.lower() != user.email:
        # The same answer whether the address is a colleague's or nobody's: a customer learns
        # nothing of the people it cannot see. An end user files for itself alone; a logger
        # or customer administrator for the contacts it sees.
        if not user.sees_whole_organisation:
            raise InvalidReference(
                gettext_noop("requester_email: you can only file tickets for yourself.")
            )
        requester = (
            User.objects.visible_to(user)
            .filter(email=data.requester_email.lower(), is_active=True)
            .first()
        )
        if requester is None:
            raise InvalidReference(
                gettext_noop("requester_email: not a colleague in your organisation.")
            )
    else:
        requester = user
    organisations = Organisation.objects.visible_to(user)  # another's: as if none had the id
    return services.create_ticket(
        by=user,
        requester=requester,
        subject=data.subject,
        channel=data.channel if user.is_staff else Channel.API,
        description=data.description,
        organisation=reference(organisations, data.organisation, "organisation"),
        product=reference(Product, data.product, "product"),
        category=reference(Category, data.category, "category"),
        urgency=data.urgency,
        impact=data.impact,
        steps_to_reproduce=data.steps_to_reproduce,
        users_affected=data.users_affected,
        present_since=data.present_since,
        investigations_done=data.investigations_done,
        business_impact=data.business_impact,
        cc=data.cc,
    )


@router.post("", response={201: TicketOut, **CHANGE_ERRORS}, summary="File a ticket")
def create_ticket(request, response: HttpResponse, data: TicketIn):
    """Staff file for a customer (``requester_email``: an existing contact, or a new one made
    the way an email makes one); a customer files for itself (or, as a logger or customer
    administrator, for a colleague). ``urgency`` and ``impact`` are the requester's proposal."""
    user = caller(request)
    with transaction.atomic():  # a refusal must not leave a new contact behind
        ticket = _file(user, data)
    response["ETag"] = etag(ticket)
    # the objects just made: no read back
    return Answer(201, present.tickets([ticket], viewer=user)[0])


ORDERINGS = (
    "sla_due",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "number",
    "-number",
)


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _encode_cursor(ticket: Ticket, ordering: str) -> str:
    field = ordering.lstrip("-")
    value = ticket.sla_due_at if field == "sla_due" else getattr(ticket, field)
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([ordering, value, ticket.number]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str, ordering: str) -> Q:
    """The keyset condition for the rows after ``cursor`` (ties broken by number)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, number = json.loads(raw)
        if kind != ordering or not isinstance(number, int) or not -(2**63) <= number < 2**63:
            raise ValueError
        if ordering.lstrip("-") == "number":
            pass  # the number alone places the row
        elif value is not None or ordering != "sla_due":  # only a due time can be none
            # Ours are aware and within the database's range: others would fail in the query.
            value = datetime.fromisoformat(value)
            if value.tzinfo is None or not storable(value):
                raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidQuery(
            gettext_noop("cursor: not a cursor from this listing and ordering.")
        ) from None
    if ordering == "sla_due":
        if value is None:
            return Q(sla_due_at__isnull=True, number__gt=number)
        return (
            Q(sla_due_at__gt=value)
            | Q(sla_due_at=value, number__gt=number)
            | Q(sla_due_at__isnull=True)
        )
    field = ordering.lstrip("-")
    if field == "number":
        return Q(number__lt=number) if ordering.startswith("-") else Q(number__gt=number)
    op = "lt" if ordering.startswith("-") else "gt"
    return Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"number__{op}": number})


def _order_by(ordering: str) -> list[str]:
    if ordering == "sla_due":
        return ["sla_due_at", "number"]
    if ordering.lstrip("-") == "number":
        return [ordering]
    return [ordering, "-number" if ordering.startswith("-") else "number"]


def _page_ids(rows, ordering: str, size: int) -> list[int]:
    """The ids of the next ``size`` rows, read from the index alone (no joins while sorting).

    By SLA due time: the tickets with a due time first, through the index on
    (sla_due_at, number), then those with none, by number — the same on every database (SQLite
    and PostgreSQL disagree where NULLs sort, and NULLS LAST would defeat the index)."""
    if ordering != "sla_due":
        return list(rows.order_by(*_order_by(ordering)).values_list("pk", flat=True)[:size])
    ids = list(
        rows.filter(sla_due_at__isnull=False)
        .order_by("sla_due_at", "number")
        .values_list("pk", flat=True)[:size]
    )
    if len(ids) < size:
        ids += (
            rows.filter(sla_due_at__isnull=True)
            .order_by("number")
            .values_list("pk", flat=True)[: size - len(ids)]
        )
    return ids


@router.get("", response={200: TicketPage, **ERRORS}, summary="List tickets")
def list_tickets(
    request,
    status: str | None = Query(None, description="One or more statuses, comma-separated."),
    priority: str | None = Query(None, description="One or more priorities, comma-separated."),
    group: Id | None = None,
    assignee: str | None = Query(
        None, max_length=19, description="A staff user's id, `me` or `none`."
    ),
    organisation: Id | None = None,
    product: Id | None = None,
    updated_since: Instant | None = None,
    q: str | None = Query(
        None,
        max_length=200,
        description=(
            "A ticket's number or reference (that ticket), or words: the tickets whose "
            "subject, description or thread (internal notes for staff only) hold every word; "
            "words of three letters or more also match longer words, accents are ignored. "
            "The results keep the requested `ordering` and paginate by `cursor`."
        ),
    ),
    ordering: str = Query("sla_due", description="One of " + ", ".join(ORDERINGS) + "."),
    cursor: str | None = Query(None, max_length=400),
    limit: int = Query(25, ge=1, le=100),
):
    """The tickets the token's user may see; by default the nearest SLA due time first."""
    user = caller(request)
    if ordering not in ORDERINGS:
        raise InvalidQuery(
            gettext_noop("ordering: one of %(orderings)s."), orderings=", ".join(ORDERINGS)
        )
    rows = selectors.tickets_for(user)
    if statuses := _csv(status):
        unknown = set(statuses) - {s.value for s in Status}
        if unknown:
            raise InvalidQuery(
                gettext_noop("status: unknown %(statuses)s."), statuses=", ".join(sorted(unknown))
            )
        rows = rows.filter(status__in=statuses)
    if priorities := _csv(priority):
        rows = rows.filter(priority__in=priorities)
    if group is not None:
        rows = rows.filter(group_id=group)
    if assignee == "me":
        rows = rows.filter(assignee_id=user.pk)
    elif assignee == "none":
        rows = rows.filter(assignee__isnull=True)
    elif assignee:
        # ASCII digits only: "²" and "١٢" are digits to str.isdigit(), and int() refuses the
        # first and reads the second.
        if not (assignee.isascii() and assignee.isdigit()) or int(assignee) >= 2**63:
            raise InvalidQuery(gettext_noop("assignee: a user id, `me` or `none`."))
        rows = rows.filter(assignee_id=int(assignee))
    if organisation is not None:
        rows = rows.filter(organisation_id=organisation)
    if product is not None:
        rows = rows.filter(product_id=product)
    if updated_since is not None:
        if timezone.is_naive(updated_since):  # read as Django reads it, without its warning
            updated_since = timezone.make_aware(updated_since, timezone.get_default_timezone())
        rows = rows.filter(updated_at__gte=updated_since)
    if q and q.strip():
        words = q.strip()
        number = parse_reference(words, settings.SERVICEDESK_TICKET_PREFIX)
        if number is not None:
            rows = rows.filter(number=number)
        else:  # the full-text index, as the desk's search (not ranked: ``ordering`` holds)
            rows = search.narrow(rows, user=user, text=words)
    if cursor:
        rows = rows.filter(_after(cursor, ordering))
    ids = _page_ids(rows, ordering, limit + 1)
    more = len(ids) > limit
    found = Ticket.objects.select_related(*present.TICKET_RELATIONS).in_bulk(ids[:limit])
    page = [found[pk] for pk in ids[:limit]]
    return {
        "items": present.tickets(page, viewer=user),
        "next_cursor": _encode_cursor(page[-1], ordering) if more else None,
    }


@router.get("/{number}", response={200: TicketOut, **ERRORS}, summary="Read a ticket")
def get_ticket(request, response: HttpResponse, number: TicketPath):
    """With an ``ETag``: send it back as ``If-Match`` with a change to be sure nobody changed
    the ticket meanwhile (412 if they did). Only this read carries ``sla.explain``."""
    return _present_one(request, response, ticket_number(number), explain=True)


TEXT_FIELDS = ("description", "steps_to_reproduce", "investigations_done", "business_impact")


@router.patch("/{number}", response={200: TicketOut, **CHANGE_ERRORS}, summary="Edit details")
def update_ticket(request, response: HttpResponse, number: TicketPath, data: TicketPatch):
    user = caller(request)
    changes = data.dict(exclude_unset=True)
    for name in TEXT_FIELDS:
        if name in changes and changes[name] is None:
            changes[name] = ""  # null clears a text
    for name, model in (
        ("product", Product),
        ("category", Category),
        ("organisation", Organisation.objects.visible_to(user)),
    ):
        if name in changes:
            changes[name] = reference(model, changes[name], name)
    with transaction.atomic():
        ticket = locked_ticket(request, number)
        services.update_details(ticket=ticket, by=user, **changes)
    return _present_one(request, response, ticket.number)


# -- the thread -----------------------------------------------------------------------------


@router.get("/{number}/replies", response={200: list[ReplyOut], **ERRORS}, summary="Thread")
def list_replies(request, number: TicketPath):
    """The replies (and, for staff, internal notes) of the ticket, oldest first."""
    user = caller(request)
    ticket = selectors.get_ticket(user=user, number=ticket_number(number))
    return [present.comment(c) for c in selectors.thread(user=user, ticket=ticket)]


def _uploads(data: ReplyIn) -> list[services.Upload]:
    uploads = []
    for part in data.attachments:
        try:
            content = base64.b64decode(part.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise services.InvalidTicket(
                gettext_noop("attachments: %(file)s is not valid base64."), file=part.filename
            ) from None
        uploads.append(
            services.Upload(
                filename=part.filename,
                content_type=part.content_type,
                file=ContentFile(content, name=part.filename),
            )
        )
    return uploads


@router.post(
    "/{number}/replies", response={201: ReplyOut, **CHANGE_ERRORS}, summary="Reply or note"
)
def add_reply(request, number: TicketPath, data: ReplyIn):
    """A public reply (emailed to the requester when the desk writes it) or, for staff, an
    internal note (``internal``: never emailed, never shown to customers)."""
    user = caller(request)
    uploads = _uploads(data)
    with transaction.atomic():
        ticket = locked_ticket(request, number)
        comment = services.add_comment(
            ticket=ticket,
            author=user,
            body=data.body,
            internal=data.internal,
            channel=Channel.API,
            uploads=uploads,
        )
    comment = selectors.thread(user=user, ticket=ticket).get(pk=comment.pk)
    return Answer(201, present.comment(comment))


@router.get(
    "/{number}/attachments/{attachment_id}",
    response={200: None, **ERRORS},
    summary="Download an attachment",
)
def download_attachment(request, number: TicketPath, attachment_id: int):
    user = caller(request)
    ticket = selectors.get_ticket(user=user, number=ticket_number(number))
    attachment = selectors.get_attachment(user=user, attachment_id=attachment_id)
    if attachment.ticket_id != ticket.pk:
        raise NotFound(gettext_noop("No such attachment."))
    return attachment_response(attachment)


# -- the desk's moves -----------------------------------------------------------------------


@router.post("/{number}/triage", response={200: TicketOut, **CHANGE_ERRORS}, summary="Triage")
def confirm_triage(request, response: HttpResponse, number: TicketPath, data: TriageIn):
    """The desk confirms (or corrects) urgency and impact; score, priority and SLA follow."""
    with transaction.atomic():
        ticket = locked_ticket(request, number)
        services.confirm_triage(
            ticket=ticket, urgency=data.urgency, impact=data.impact, by=caller(request)
        )
    return _present_one(request, response, ticket.number)


@router.post("/{number}/status", response={200: TicketOut, **CHANGE_ERRORS}, summary="Move")
def change_status(request, response: HttpResponse, number: TicketPath, data: StatusIn):
    """409 with the reason when the workflow does not allow the move."""
    with transaction.atomic():
        ticket = locked_ticket(request, number)
        services.change_status(
            ticket=ticket, to=str(data.status), by=caller(request), reason=data.reason
        )
    return _present_one(request, response, ticket.number)


@router.post("/{number}/assignment", response={200: TicketOut, **CHANGE_ERRORS}, summary="Assign")
def assign(request, response: HttpResponse, number: TicketPath, data: AssignmentIn):
    user = caller(request)
    require_staff(user)
    fields = data.dict(exclude_unset=True)
    assignee = reference(User, data.assignee, "assignee") if data.assignee is not None else None
    group = reference(Group, data.group, "group")
    with transaction.atomic():
        ticket = locked_ticket(request, number)
        if group is not None:
            services.move_to_group(ticket=ticket, group=group, by=user, reason=data.reason)
        if "assignee" in fields:
            services.assign(ticket=ticket, assignee=assignee, by=user)
    return _present_one(request, response, ticket.number)


def _link_json(link: TicketLink, ticket: Ticket) -> dict:
    outgoing = link.source_id == ticket.pk
    other = link.target if outgoing else link.source
    return {
        "id": link.pk,
        "kind": link.kind,
        "direction": "outgoing" if outgoing else "incoming",
        "ticket": other.number,
        "reference": other.reference,
        "created_at": link.created_at,
    }


@router.get("/{number}/links", response={200: list[LinkOut], **ERRORS}, summary="Links")
def list_links(request, number: TicketPath):
    user = caller(request)
    ticket = selectors.get_ticket(user=user, number=ticket_number(number))
    visible = selectors.tickets_for(user)
    links = (
        TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
        .filter(source__in=visible, target__in=visible)
        .select_related("source", "target")
        .order_by("created_at", "pk")
    )
    return [_link_json(link, ticket) for link in links]


@router.post("/{number}/links", response={201: LinkOut, **CHANGE_ERRORS}, summary="Link")
def add_link(request, number: TicketPath, data: LinkIn):
    user = caller(request)
    require_staff(user)
    with transaction.atomic():
        ticket = locked_ticket(request, number)
        other = selectors.get_ticket(user=user, number=ticket_number(data.ticket))
        link = services.link_tickets(source=ticket, target=other, kind=str(data.kind), by=user)
    return Answer(201, _link_json(link, ticket))


@router.delete("/{number}/links/{link_id}", response={204: None, **CHANGE_ERRORS}, summary="Unlink")
def remove_link(request, number: TicketPath, link_id: int):
    user = caller(request)
    require_staff(user)
    with transaction.atomic():
        ticket = locked_ticket(request, number)
        link = (
            TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket), pk=link_id)
            .select_related("source", "target")
            .first()
        )
        if link is None:
            raise NotFound(gettext_noop("No such link on this ticket."))
        services.unlink_tickets(link=link, by=user)
    return Answer(204, None)
