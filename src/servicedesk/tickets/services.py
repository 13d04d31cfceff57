"""The verbs that change tickets. Every channel (admin, API, email, tasks) calls these.

Each service runs in one transaction, checks that the actor may see and change the ticket,
applies the pure rules (workflow, triage, routing), and writes one event row per change.
Services return the ticket as it now is.
"""

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import connection, transaction
from django.utils.translation import gettext_noop

from servicedesk.accounts.models import Group, Organisation, User
from servicedesk.core import clock, config_cache
from servicedesk.core.errors import DomainError, NotFound, PermissionDenied, Term
from servicedesk.core.events import publish
from servicedesk.sla import services as sla
from servicedesk.sla.models import TicketClock
from servicedesk.tickets import routing, triage, workflow
from servicedesk.tickets.models import (
    Attachment,
    Category,
    Channel,
    Comment,
    Event,
    EventKind,
    LinkKind,
    NumberSequence,
    Product,
    Ticket,
    TicketLink,
)
from servicedesk.tickets.selectors import takes_part, triage_bands

FIRST_NUMBER = 10001


class InvalidTicket(DomainError):
    code = "invalid_ticket"


class AttachmentTooLarge(DomainError):
    code = "attachment_too_large"


@dataclass(frozen=True)
class Upload:
    """A file to attach: its name as the sender gave it, its content type, and its bytes."""

    filename: str
    content_type: str
    file: File

    @classmethod
    def from_files(cls, files) -> list["Upload"]:
        """Uploads of files sent through a form (Django's UploadedFile)."""
        return [cls(filename=f.name, content_type=f.content_type or "", file=f) for f in files]


def actor_of(user: User | None) -> workflow.Actor:
    if user is None:
        return workflow.Actor.SYSTEM
    return workflow.Actor.STAFF if user.is_staff else workflow.Actor.CUSTOMER


# What a status move changes on the ticket row.
STATUS_FIELDS = ["status", "resolved_at", "closed_at", "confirmation_asked_at", "updated_at"]


def require_staff(user: User | None, action: str) -> None:
    """Refuse ``user`` unless staff (``None``: the desk's own automation)."""
    if user is not None and not user.is_staff:
        raise PermissionDenied(
            gettext_noop("Only the support desk can %(action)s."), action=Term(action)
        )


def _locked(ticket: Ticket, by: User | None) -> Ticket:
    """Re-read ``ticket`` under a row lock, as ``by`` may see it; ``NotFound`` if not."""
    queryset = Ticket.objects.select_for_update()
    if by is not None:
        queryset = queryset.visible_to(by)
    found = queryset.filter(pk=ticket.pk).first()
    if found is None:
        raise NotFound(gettext_noop("No such ticket."))
    return found


def history_ref(obj) -> dict[str, Any] | None:
    """A related object as the history keeps it: id and the name it had then."""
    return None if obj is None else {"id": obj.pk, "name": str(obj)}


def _event(
    ticket: Ticket,
    *,
    by: User | None,
    at: datetime,
    kind: str,
    field: str = "",
    old: Any = None,
    new: Any = None,
    reason: str = "",
    internal: bool = False,
) -> Event:
    return Event(
        ticket=ticket,
        actor=by,
        at=at,
        kind=kind,
        field=field,
        old=old,
        new=new,
        reason=reason,
        internal=internal,
    )


def _record(events: list[Event], **hints: Any) -> None:
    """Write a change's events and publish them to their subscribers (mail, webhooks) in the
    same transaction; ``hints``: what the subscribers may use that the events do not say."""
    Event.objects.bulk_create(events)
    publish(events, **hints)


def record_event(
    ticket: Ticket,
    *,
    by: User | None,
    at: datetime,
    kind: str,
    field: str = "",
    old: Any = None,
    new: Any = None,
    reason: str = "",
    internal: bool = False,
) -> Event:
    """Write one event of ``ticket``'s history and publish it to the subscribers, for the
    domain apps that change a ticket from outside this module (escalation). Call inside the
    change's transaction."""
    event = _event(
        ticket,
        by=by,
        at=at,
        kind=kind,
        field=field,
        old=old,
        new=new,
        reason=reason,
        internal=internal,
    )
    _record([event])
    return event


def allocate_numbers(count: int, sequence: str = "ticket") -> range:
    """Hand out ``count`` consecutive numbers of ``sequence`` (tickets, change requests).
    Call inside the creating transaction.

    One statement: the row lock taken by the update is held until the caller commits, so
    two transactions never get the same numbers (SQLite and PostgreSQL both do RETURNING)."""
    table = NumberSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_value = last_value + %s WHERE name = %s RETURNING last_value",
            [count, sequence],
        )
        found = cursor.fetchone()
    if found is None:
        NumberSequence.objects.create(name=sequence, last_value=FIRST_NUMBER - 1 + count)
        last = FIRST_NUMBER - 1 + count
    else:
        last = found[0]
    return range(last - count + 1, last + 1)


def _check_triage_pair(urgency: int | None, impact: int | None) -> triage.Assessment | None:
    if urgency is None and impact is None:
        return None
    if urgency is None or impact is None:
        raise triage.InvalidTriage(gettext_noop("Give both urgency and impact, or neither."))
    return triage.assess(urgency=urgency, impact=impact, bands=triage_bands())


def _groups() -> dict[int, Group]:
    return config_cache.memo("groups", Group.objects.in_bulk)


def route_new_ticket(
    *, organisation: Organisation | None, product: Product | None, category: Category | None
) -> routing.Route:
    """The group (and assignee) a new ticket starts with: filing and imports alike."""
    intake = config_cache.memo(
        "intake_group",
        lambda: Group.objects.filter(is_default_intake=True).values_list("pk", flat=True).first(),
    )
    return routing.route(
        category_kind=category.kind if category else None,
        category_group_id=category.default_group_id if category else None,
        product_group_id=product.default_group_id if product else None,
        intake_group_id=intake,
        account_manager_id=organisation.account_manager_id if organisation else None,
    )


@transaction.atomic
def create_ticket(
    *,
    by: User | None,
    requester: User,
    subject: str,
    channel: str,
    description: str = "",
    organisation: Organisation | None = None,
    product: Product | None = None,
    category: Category | None = None,
    urgency: int | None = None,
    impact: int | None = None,
    steps_to_reproduce: str = "",
    users_affected: int | None = None,
    present_since: date | None = None,
    investigations_done: str = "",
    business_impact: str = "",
    uploads: Sequence[Upload] = (),
    cc: Sequence[str] = (),
    in_reply_to: str = "",
) -> Ticket:
    """Open a ticket for ``requester``, filed by ``by`` (None: the desk's own automation).

    A customer files for themselves; a designated logger or customer administrator may also
    file for a colleague of the same organisation. Urgency and impact are the requester's
    proposal; the score and priority follow from them until the desk confirms its own.
    The acknowledgement (a subscriber of the creation) answers the message ``in_reply_to``
    (a Message-ID) when the ticket came by email.
    """
    subject = " ".join(subject.split())
    if not subject:
        raise InvalidTicket(gettext_noop("A ticket needs a subject."))
    if len(subject) > Ticket._meta.get_field("subject").max_length:
        raise InvalidTicket(gettext_noop("The subject is too long (250 characters at most)."))
    if channel not in Channel.values:
        raise InvalidTicket(gettext_noop("Unknown channel %(channel)r."), channel=channel)
    if users_affected is not None and users_affected < 0:
        raise InvalidTicket(gettext_noop("The number of users affected cannot be negative."))
    if requester.is_staff:
        raise InvalidTicket(
            gettext_noop("The requester must be a customer contact, not a member of staff.")
        )
    if by is not None and not by.is_staff and by.pk != requester.pk:
        colleague = (
            by.sees_whole_organisation
            and by.organisation_id
            and (by.organisation_id == requester.organisation_id)
        )
        if not colleague:
            raise PermissionDenied(gettext_noop("You can only file tickets for yourself."))
    if organisation is None:
        organisation = requester.organisation
    elif by is not None and not by.is_staff and organisation.pk != requester.organisation_id:
        raise PermissionDenied(gettext_noop("You can only file tickets for your own organisation."))
    assessment = _check_triage_pair(urgency, impact)
    # Untriaged tickets (most email) run on the lowest band's SLA until the desk triages them.
    priority = assessment.priority if assessment else triage_bands()[0].key

    now = clock.now()
    route = route_new_ticket(organisation=organisation, product=product, category=category)
    (number,) = allocate_numbers(1)
    ticket = Ticket(
        number=number,
        organisation=organisation,
        requester=requester,
        channel=channel,
        product=product,
        category=category,
        subject=subject,
        description=description,
        steps_to_reproduce=steps_to_reproduce,
        users_affected=users_affected,
        present_since=present_since,
        investigations_done=investigations_done,
        business_impact=business_impact,
        cc=list(dict.fromkeys(a.lower() for a in cc if a.lower() != requester.email.lower())),
        group=_groups().get(route.group_id),
        assignee_id=route.assignee_id,
        status=workflow.Status.NEW,
        proposed_urgency=urgency,
        proposed_impact=impact,
        score=assessment.score if assessment else None,
        priority=priority,
        created_at=now,
        updated_at=now,
    )
    clocks = sla.plan_clocks(ticket=ticket, at=now)
    ticket.save(force_insert=True)
    TicketClock.objects.bulk_create(clocks)
    events = [
        _event(
            ticket,
            by=by,
            at=now,
            kind=EventKind.CREATED,
            new={
                "subject": subject,
                "channel": channel,
                "status": ticket.status,
                "score": ticket.score,
                "priority": ticket.priority,
                "group": ticket.group_id,
                "assignee": ticket.assignee_id,
            },
        ),
    ]
    events += _store_uploads(ticket, comment=None, by=by, uploads=uploads, at=now)
    _record(events, clocks=clocks, in_reply_to=in_reply_to)
    return ticket


def _store_uploads(
    ticket: Ticket,
    *,
    comment: Comment | None,
    by: User | None,
    uploads: Iterable[Upload],
    at: datetime,
) -> list[Event]:
    """Save each upload through the storage API; return their events (not yet saved)."""
    limit = settings.SERVICEDESK_MAX_ATTACHMENT_BYTES
    uploads = list(uploads)
    for upload in uploads:  # all checked before any is stored: a refusal leaves no files behind
        if upload.file.size > limit:
            raise AttachmentTooLarge(
                gettext_noop("%(file)s is %(size)s bytes; the limit is %(limit)s bytes."),
                file=upload.filename,
                size=upload.file.size,
                limit=limit,
            )
    events = []
    for upload in uploads:
        printable = "".join(ch for ch in upload.filename if ch.isprintable())
        filename = PurePath(printable.replace("\\", "/")).name[:255] or "attachment"
        attachment = Attachment(
            ticket=ticket,
            comment=comment,
            token=secrets.token_hex(16),
            filename=filename,
            content_type=upload.content_type or "application/octet-stream",
            size=upload.file.size,
            uploaded_by=by,
            created_at=at,
        )
        attachment.file.save(attachment.token, upload.file, save=False)
        attachment.save()
        events.append(
            _event(
                ticket,
                by=by,
                at=at,
                kind=EventKind.ATTACHMENT,
                new={"id": attachment.pk, "name": filename, "comment": comment and comment.pk},
                internal=bool(
                    comment and comment.internal
                ),  # a note's file is as internal as the note
            )
        )
    return events


def _move(
    ticket: Ticket,
    *,
    to: workflow.Status,
    by: User | None,
    at: datetime,
    reason: str = "",
    actor: workflow.Actor | None = None,
) -> list[Event]:
    """Apply a status move the workflow allows, pausing or resuming the SLA clocks; return
    its events (not yet saved). ``actor``: who the workflow judges, when the desk's
    automation acts on ``by``'s behalf (a customer's re-opening)."""
    old = ticket.status
    workflow.check_transition(workflow.Status(old), to, actor=actor or actor_of(by), reason=reason)
    ticket.status = to
    # Resolved here and now: the closing loop asks the requester to confirm (imported
    # resolutions are history and never enter it).
    ticket.confirmation_asked_at = at if to == workflow.Status.RESOLVED else None
    if to == workflow.Status.RESOLVED:
        ticket.resolved_at = at
    elif to == workflow.Status.CLOSED:
        ticket.closed_at = at
    else:
        ticket.resolved_at = ticket.closed_at = None
    move = _event(
        ticket,
        by=by,
        at=at,
        kind=EventKind.STATUS,
        field="status",
        old=old,
        new=str(to),
        reason=reason,
    )
    return [move, *sla.on_status_change(ticket=ticket, old=old, new=to, by=by, at=at)]


@transaction.atomic
def change_status(*, ticket: Ticket, to: str, by: User | None, reason: str = "") -> Ticket:
    """Move ``ticket`` to status ``to`` if the workflow allows ``by`` to; raises otherwise."""
    try:
        target = workflow.Status(to)
    except ValueError:
        raise workflow.TransitionNotAllowed(
            gettext_noop("Unknown status %(status)r."), status=to
        ) from None
    ticket = _locked(ticket, by)
    now = clock.now()
    events = _move(ticket, to=target, by=by, at=now, reason=reason)
    ticket.updated_at = now
    ticket.save(update_fields=STATUS_FIELDS)
    _record(events)
    return ticket


@transaction.atomic
def reopen(*, ticket: Ticket, by: User, reason: str, within_days: int) -> Ticket:
    """A customer re-opens their resolved or closed ticket, with a reason, within
    ``within_days`` days of its resolution (of its closing, once closed); later, they open a
    new ticket. Closed to open is the desk's move: its automation makes it on the customer's
    behalf, inside the window only, and the history names the customer with their reason."""
    if not reason.strip():
        raise workflow.TransitionNotAllowed(gettext_noop("Say why you re-open the ticket."))
    ticket = _locked(ticket, by)
    if ticket.status not in (workflow.Status.RESOLVED, workflow.Status.CLOSED):
        raise workflow.TransitionNotAllowed(gettext_noop("This ticket is still open."))
    now = clock.now()
    since = ticket.closed_at if ticket.status == workflow.Status.CLOSED else ticket.resolved_at
    if since is not None and now - since > timedelta(days=within_days):
        raise workflow.TransitionNotAllowed(
            gettext_noop(
                "This ticket ended more than %(days)s days ago: please open a new ticket."
            ),
            days=within_days,
        )
    actor = workflow.Actor.SYSTEM if by is not None and not by.is_staff else None
    events = _move(ticket, to=workflow.Status.OPEN, by=by, at=now, reason=reason, actor=actor)
    ticket.updated_at = now
    ticket.save(update_fields=STATUS_FIELDS)
    _record(events)
    return ticket


@transaction.atomic
def confirm_triage(*, ticket: Ticket, urgency: int, impact: int, by: User | None) -> Ticket:
    """The desk confirms or corrects the triage; score and priority follow.

    Confirming a new ticket opens it. The customer's proposal is kept as it was.
    """
    require_staff(by, gettext_noop("confirm the triage"))
    ticket = _locked(ticket, by)
    assessment = triage.assess(urgency=urgency, impact=impact, bands=triage_bands())
    now = clock.now()
    old = {
        "urgency": ticket.confirmed_urgency,
        "impact": ticket.confirmed_impact,
        "score": ticket.score,
        "priority": ticket.priority,
    }
    new = {
        "urgency": assessment.urgency,
        "impact": assessment.impact,
        "score": assessment.score,
        "priority": assessment.priority,
    }
    if old == new:
        return ticket
    ticket.confirmed_urgency, ticket.confirmed_impact = assessment.urgency, assessment.impact
    ticket.score, ticket.priority = assessment.score, assessment.priority
    events = [
        _event(ticket, by=by, at=now, kind=EventKind.TRIAGE, field="triage", old=old, new=new)
    ]
    if ticket.status == workflow.Status.NEW:
        events += _move(ticket, to=workflow.Status.OPEN, by=by, at=now)
    if old["priority"] != new["priority"]:
        sla.on_retriage(ticket=ticket, at=now)  # from each clock's original start, not from now
    ticket.updated_at = now
    ticket.save(
        update_fields=[
            "confirmed_urgency",
            "confirmed_impact",
            "score",
            "priority",
            "status",
            "updated_at",
        ]
    )
    _record(events)
    return ticket


@transaction.atomic
def assign(*, ticket: Ticket, assignee: User | None, by: User | None) -> Ticket:
    """Give ``ticket`` to a member of staff, or take it from whoever has it (``None``)."""
    require_staff(by, gettext_noop("assign tickets"))
    if assignee is not None and (not assignee.is_staff or not assignee.is_active):
        raise InvalidTicket(gettext_noop("Tickets can only be assigned to active staff."))
    ticket = _locked(ticket, by)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    now = clock.now()
    event = _event(
        ticket,
        by=by,
        at=now,
        kind=EventKind.ASSIGNEE,
        field="assignee",
        old=history_ref(ticket.assignee),
        new=history_ref(assignee),
    )
    ticket.assignee, ticket.updated_at = assignee, now
    ticket.save(update_fields=["assignee", "updated_at"])
    _record([event])
    return ticket


@transaction.atomic
def move_to_group(*, ticket: Ticket, group: Group, by: User | None, reason: str = "") -> Ticket:
    """Hand ``ticket`` to another group (support level); the assignee stays unless told."""
    require_staff(by, gettext_noop("move tickets between groups"))
    ticket = _locked(ticket, by)
    if ticket.group_id == group.pk:
        return ticket
    now = clock.now()
    event = _event(
        ticket,
        by=by,
        at=now,
        kind=EventKind.GROUP,
        field="group",
        old=history_ref(ticket.group),
        new=history_ref(group),
        reason=reason,
    )
    ticket.group, ticket.updated_at = group, now
    ticket.save(update_fields=["group", "updated_at"])
    sla.on_group_change(ticket=ticket, at=now)  # an OLA owed by the group it left stops
    _record([event])
    return ticket


# Fields the desk may edit after creation, each recorded as its own event.
EDITABLE_FIELDS = (
    "subject",
    "description",
    "steps_to_reproduce",
    "users_affected",
    "present_since",
    "investigations_done",
    "business_impact",
    "product",
    "category",
    "organisation",
    "channel",
)
_RELATION_FIELDS = {"product", "category", "organisation"}


def _history_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


@transaction.atomic
def update_details(*, ticket: Ticket, by: User | None, **changes: Any) -> Ticket:
    """Change the descriptive fields of ``ticket`` (staff only); one event per changed field."""
    require_staff(by, gettext_noop("edit a ticket's details"))
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidTicket(
            gettext_noop("These fields cannot be edited here: %(fields)s."),
            fields=", ".join(sorted(unknown)),
        )
    if "subject" in changes:
        changes["subject"] = " ".join((changes["subject"] or "").split())
        if not changes["subject"]:
            raise InvalidTicket(gettext_noop("A ticket needs a subject."))
        if len(changes["subject"]) > Ticket._meta.get_field("subject").max_length:
            raise InvalidTicket(gettext_noop("The subject is too long (250 characters at most)."))
    if "channel" in changes and changes["channel"] not in Channel.values:
        raise InvalidTicket(
            gettext_noop("Unknown channel %(channel)r."), channel=changes["channel"]
        )
    if (changes.get("users_affected") or 0) < 0:
        raise InvalidTicket(gettext_noop("The number of users affected cannot be negative."))
    ticket = _locked(ticket, by)
    now = clock.now()
    events, changed = [], []
    for name, value in changes.items():
        if name in _RELATION_FIELDS:
            current = getattr(ticket, name)
            if (current.pk if current else None) == (value.pk if value else None):
                continue
            events.append(
                _event(
                    ticket,
                    by=by,
                    at=now,
                    kind=EventKind.FIELD,
                    field=name,
                    old=history_ref(current),
                    new=history_ref(value),
                )
            )
        else:
            current = getattr(ticket, name)
            if isinstance(value, str) and isinstance(current, str):
                value = value.replace("\r\n", "\n")  # browsers send CRLF: no change of text
                if current.replace("\r\n", "\n") == value:
                    continue
            if current == value:
                continue
            events.append(
                _event(
                    ticket,
                    by=by,
                    at=now,
                    kind=EventKind.FIELD,
                    field=name,
                    old=_history_value(current),
                    new=_history_value(value),
                )
            )
        setattr(ticket, name, value)
        changed.append(name)
    if changed:
        ticket.updated_at = now
        ticket.save(update_fields=[*changed, "updated_at"])
        _record(events)
        if {"organisation", "product"} & set(changed):
            sla.on_retriage(ticket=ticket, at=now)  # another contract or product may apply
    return ticket


@transaction.atomic
def add_comment(
    *,
    ticket: Ticket,
    author: User | None,
    body: str,
    internal: bool = False,
    channel: str = Channel.PORTAL,
    uploads: Sequence[Upload] = (),
    folded: str = "",
) -> Comment:
    """Add a public reply or an internal note to the thread of ``ticket``.

    Customers write public replies only, to tickets they take part in (``takes_part``: the
    requester, a copied address, a contact of its organisation…, whatever the channel);
    their reply re-opens a resolved ticket and resumes one that waited on them. A closed
    ticket takes no more customer replies. The desk's public replies are mailed by the
    subscriber of the reply event.
    """
    if not body.strip() and not uploads:
        raise InvalidTicket(gettext_noop("A reply needs a text or an attachment."))
    if channel not in Channel.values:
        raise InvalidTicket(gettext_noop("Unknown channel %(channel)r."), channel=channel)
    if internal:
        require_staff(author, gettext_noop("write internal notes"))
    ticket = _locked(ticket, None)
    if author is not None and not takes_part(ticket, author):
        raise NotFound(gettext_noop("No such ticket."))
    now = clock.now()
    events = []
    customer_reply = author is not None and not author.is_staff
    if customer_reply:
        if ticket.status == workflow.Status.CLOSED:
            raise workflow.TransitionNotAllowed(
                gettext_noop(
                    "This ticket is closed and takes no more replies: please open a new ticket."
                )
            )
        target = workflow.status_after_customer_reply(workflow.Status(ticket.status))
        if target is not None:
            events += _move(ticket, to=target, by=author, at=now)
    comment = Comment.objects.create(
        ticket=ticket,
        author=author,
        body=body,
        folded=folded,
        internal=internal,
        channel=channel,
        created_at=now,
    )
    events.insert(
        0,
        _event(
            ticket,
            by=author,
            at=now,
            kind=EventKind.NOTE if internal else EventKind.REPLY,
            new={"comment": comment.pk},
            internal=internal,
        ),
    )
    events += _store_uploads(ticket, comment=comment, by=author, uploads=uploads, at=now)
    desk_reply = not internal and (author is None or author.is_staff)
    if desk_reply:
        events += sla.on_public_reply(ticket=ticket, by=author, at=now)
    elif internal:
        events += sla.on_internal_note(ticket=ticket, by=author, at=now)
    ticket.updated_at = now
    ticket.save(update_fields=STATUS_FIELDS)
    _record(events)
    return comment


@transaction.atomic
def respond(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    internal: bool = False,
    channel: str = Channel.DESK,
    uploads: Sequence[Upload] = (),
    then_status: str | None = None,
) -> Comment:
    """A reply or note, then a status move, as one change ("submit as": reply and set
    waiting on customer): if the move is refused, the reply is not sent either."""
    comment = add_comment(
        ticket=ticket,
        author=author,
        body=body,
        internal=internal,
        channel=channel,
        uploads=uploads,
    )
    if then_status and then_status != comment.ticket.status:
        change_status(ticket=comment.ticket, to=then_status, by=author)
    return comment


@transaction.atomic
def link_tickets(*, source: Ticket, target: Ticket, kind: str, by: User | None) -> TicketLink:
    """Record that ``source`` is <kind> ``target``; both tickets' histories show it."""
    require_staff(by, gettext_noop("link tickets"))
    if kind not in LinkKind.values:
        raise InvalidTicket(gettext_noop("Unknown link kind %(kind)r."), kind=kind)
    if source.pk == target.pk:
        raise InvalidTicket(gettext_noop("A ticket cannot be linked to itself."))
    if TicketLink.objects.filter(source=source, target=target, kind=kind).exists():
        raise InvalidTicket(gettext_noop("These tickets are already linked that way."))
    now = clock.now()
    link = TicketLink.objects.create(
        source=source, target=target, kind=kind, created_by=by, created_at=now
    )
    _record(
        [
            _event(
                source,
                by=by,
                at=now,
                kind=EventKind.LINK,
                field=kind,
                new={"ticket": target.number},
            ),
            _event(
                target,
                by=by,
                at=now,
                kind=EventKind.LINK,
                field=kind,
                new={"ticket": source.number},
            ),
        ]
    )
    Ticket.objects.filter(pk__in=[source.pk, target.pk]).update(updated_at=now)
    return link


@transaction.atomic
def unlink_tickets(*, link: TicketLink, by: User | None) -> None:
    """Remove a link; both tickets' histories keep that it existed."""
    require_staff(by, gettext_noop("unlink tickets"))
    now = clock.now()
    source, target = link.source, link.target
    _record(
        [
            _event(
                source,
                by=by,
                at=now,
                kind=EventKind.UNLINK,
                field=link.kind,
                old={"ticket": target.number},
            ),
            _event(
                target,
                by=by,
                at=now,
                kind=EventKind.UNLINK,
                field=link.kind,
                old={"ticket": source.number},
            ),
        ]
    )
    link.delete()
    Ticket.objects.filter(pk__in=[source.pk, target.pk]).update(updated_at=now)
