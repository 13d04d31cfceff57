"""The verbs of closing the loop (SPEC §8): the sweep that reminds the customers of resolved
tickets and closes the unanswered ones, and the customer's satisfaction rating.

The rule is ``tickets.closing`` (pure). The resolution email is a subscriber of the status
event to resolved; each reminder and the automatic closing are events of their own, whose
subscribers write the mail (``servicedesk.subscribers``). Kept apart from ``services.py``
(which it uses for the status move and for recording events) to keep both modules short.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.utils.translation import gettext_noop

from servicedesk.accounts.models import User
from servicedesk.core import clock
from servicedesk.core.errors import Conflict, NotFound, PermissionDenied
from servicedesk.sla import selectors as sla_selectors
from servicedesk.sla.calendar import BusinessCalendar, CalendarError
from servicedesk.tickets import closing, workflow
from servicedesk.tickets.models import Event, EventKind, Rating, RatingValue, Ticket
from servicedesk.tickets.selectors import takes_part
from servicedesk.tickets.services import InvalidTicket, _locked, change_status, record_event

logger = logging.getLogger(__name__)


# ---- The closing sweep -------------------------------------------------------------------


@dataclass
class ClosingResult:
    reminded: list[tuple[int, int]] = field(default_factory=list)  # (ticket number, reminder n)
    closed: list[int] = field(default_factory=list)  # ticket numbers


def calendar_of(ticket: Ticket, *, at: datetime) -> BusinessCalendar | None:
    """The business calendar of ``ticket``'s SLA policy (its priority's target's calendar,
    else the policy's), or None when no policy applies: then days are plain days."""
    policy = sla_selectors.policy_for(
        organisation_id=ticket.organisation_id, product_id=ticket.product_id
    )
    if policy is None:
        return None
    target = sla_selectors.target_for(policy, ticket.priority)
    calendar_id = (target.calendar_id if target else None) or policy.calendar_id
    if calendar_id is None:
        return None
    return sla_selectors.calendars_by_id([calendar_id], around=at).get(calendar_id)


def _add_days(calendar: BusinessCalendar | None, number: int):
    def add(start: datetime, days: int) -> datetime:
        try:
            return closing.add_business_days(start, days, calendar)
        except CalendarError:  # a calendar that is never open: fall back to plain days
            logger.warning("Ticket %s: its calendar is never open; counting plain days", number)
            return closing.add_business_days(start, days, None)

    return add


def _step(ticket: Ticket, *, sent: int, last: datetime | None, now: datetime) -> closing.Step:
    return closing.next_step(
        resolved_at=ticket.resolved_at,
        reminders_sent=sent,
        last_reminder_at=last,
        reminders=settings.SERVICEDESK_CLOSING_REMINDERS,
        interval_days=settings.SERVICEDESK_CLOSING_INTERVAL_DAYS,
        add_days=_add_days(calendar_of(ticket, at=ticket.resolved_at), ticket.number),
        now=now,
    )


def _reminders_since_resolution():
    """The closing reminders of the outer ticket since its latest resolution: a re-opened
    ticket loses its ``resolved_at``, so reminders of an earlier resolution never count."""
    return Event.objects.filter(
        ticket=OuterRef("pk"), kind=EventKind.CLOSING_REMINDER, at__gte=OuterRef("resolved_at")
    )


def _reminders(ticket: Ticket) -> tuple[int, datetime | None]:
    found = Event.objects.filter(
        ticket=ticket, kind=EventKind.CLOSING_REMINDER, at__gte=ticket.resolved_at
    ).aggregate(sent=Count("pk"), last=Max("at"))
    return found["sent"], found["last"]


def _candidates(*, batch: int):
    """Resolved tickets with their reminders so far, in batches by id (one query a batch)."""
    reminders = _reminders_since_resolution()
    rows = Ticket.objects.filter(
        # resolved by the desk (an imported resolution is history: it never enters the loop)
        status=workflow.Status.RESOLVED,
        resolved_at__isnull=False,
        confirmation_asked_at__isnull=False,
    ).annotate(
        sent=Subquery(reminders.values("ticket").annotate(n=Count("pk")).values("n")[:1]),
        last=Subquery(reminders.order_by("-at").values("at")[:1]),
    )
    last_pk = 0
    while chunk := list(rows.filter(pk__gt=last_pk).order_by("pk")[:batch]):
        yield from chunk
        last_pk = chunk[-1].pk


def _act(ticket_id: int, *, now: datetime) -> closing.Step | None:
    """Send the reminder or close the ticket, if still due, in one transaction.

    The guard: the ticket's row is locked and its state read again under the lock, so of
    two sweeps at once the second sees the first one's reminder (or closing) and does
    nothing (on SQLite, writing transactions queue whole)."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
        if (
            ticket is None
            or ticket.status != workflow.Status.RESOLVED
            or not ticket.resolved_at
            or not ticket.confirmation_asked_at
        ):
            return None  # re-opened or closed in the meantime
        sent, last = _reminders(ticket)
        step = _step(ticket, sent=sent, last=last, now=now)
        if step.action == closing.Action.REMIND:
            following = _step(ticket, sent=sent + 1, last=now, now=now)
            Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
            record_event(
                ticket,
                by=None,
                at=now,
                kind=EventKind.CLOSING_REMINDER,
                field="closing",
                new={
                    "reminder": step.number,
                    "of": settings.SERVICEDESK_CLOSING_REMINDERS,
                    "resolved_at": ticket.resolved_at.isoformat(),
                    "next": following.due_at.isoformat(),
                    "closes": step.number >= settings.SERVICEDESK_CLOSING_REMINDERS,
                },
            )
        elif step.action == closing.Action.CLOSE:
            reason = f"Closed automatically after {step.number} reminders without an answer."
            ticket = change_status(ticket=ticket, to=workflow.Status.CLOSED, by=None, reason=reason)
            record_event(
                ticket,
                by=None,
                at=ticket.closed_at,
                kind=EventKind.AUTO_CLOSED,
                field="closing",
                new={"reminders": step.number},
                reason=reason,
            )
        return step


def sweep_closing(*, now: datetime | None = None, batch: int = 500) -> ClosingResult:
    """Remind the customers of resolved tickets that wait for their confirmation, and close
    those that never answered, as ``tickets.closing`` decides. Safe to run twice, or in two
    processes at once: each reminder and each closing happens once."""
    now = now or clock.now()
    result = ClosingResult()
    for ticket in _candidates(batch=batch):
        # Decide on what the batch read; act (under the row lock, deciding again) only
        # when something is due, so a sweep with nothing due writes nothing.
        if (
            _step(ticket, sent=ticket.sent or 0, last=ticket.last, now=now).action
            == closing.Action.WAIT
        ):
            continue
        step = _act(ticket.pk, now=now)
        if step is None:
            continue
        if step.action == closing.Action.REMIND:
            result.reminded.append((ticket.number, step.number))
        elif step.action == closing.Action.CLOSE:
            result.closed.append(ticket.number)
    return result


# ---- Satisfaction ----------------------------------------------------------------------


class RatingNotOpen(Conflict):
    code = "rating_not_open"


RATEABLE = (workflow.Status.RESOLVED, workflow.Status.CLOSED)


def may_rate(ticket: Ticket, person: User | None) -> bool:
    """Whether ``person`` may rate ``ticket`` now: a customer taking part in it (requester,
    copied, a contact of its organisation…), once it is resolved or closed."""
    return (
        person is not None
        and person.is_active
        and not person.is_staff
        and ticket.status in RATEABLE
        and takes_part(ticket, person)
    )


@transaction.atomic
def rate(*, ticket: Ticket, by: User, value: str, comment: str = "") -> Rating:
    """Record ``by``'s satisfaction with ``ticket``: good or bad, with an optional comment.
    A customer taking part in the ticket rates it once it is resolved or closed; rating
    again replaces their rating. Staff do not rate. One ``rated`` event each time."""
    if value not in RatingValue.values:
        raise InvalidTicket(gettext_noop("A rating is good or bad, not %(value)r."), value=value)
    if by is None or by.is_staff:
        raise PermissionDenied(gettext_noop("Only the ticket's customers can rate it."))
    ticket = _locked(ticket, None)
    if not by.is_active or not takes_part(ticket, by):
        raise NotFound(gettext_noop("No such ticket."))
    if ticket.status not in RATEABLE:
        raise RatingNotOpen(gettext_noop("A ticket can be rated once it is resolved."))
    now = clock.now()
    comment = comment.strip().replace("\r\n", "\n")
    rating, _created = Rating.objects.update_or_create(
        ticket=ticket, by=by, defaults={"value": value, "comment": comment, "created_at": now}
    )
    record_event(
        ticket,
        by=by,
        at=now,
        kind=EventKind.RATED,
        field="rating",
        new={"value": value, "commented": bool(comment)},
    )
    return rating


def ratings_of(ticket: Ticket, *, user) -> list[Rating]:
    """The ratings of ``ticket`` that ``user`` may see (staff: all), newest first."""
    return list(Rating.objects.visible_to(user).filter(ticket=ticket).select_related("by"))
