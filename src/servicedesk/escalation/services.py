"""The verbs of escalation (SPEC §6): up a support level and back down, out to a vendor and
back, the vendor's answer, the sweep of broken promises, and the release that ships a fix.

Each service runs in one transaction, is for the desk only, changes the ticket through
``tickets.services`` (groups, statuses: the workflow and the SLA clocks apply as anywhere)
and records its own event on the ticket's history, published to the subscribers in the same
transaction. The ``escalated`` event's ``new`` carries what a subscriber needs to tell the
customer where the case is (kind, target, promised_by, next_update_by, notify_customer).

An internal escalation starts the receiving group's OLA clock (``sla.services.start_ola``);
the expected next update an escalation gives (``next_update_by``, else the vendor's
``promised_by``) sets the next-update clock (``sla.services.set_next_update``), in the same
transaction, before the event is published, so the customer's update states it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_noop

from servicedesk.accounts.models import Group, User, Vendor
from servicedesk.core import clock
from servicedesk.core.errors import NotFound, Term
from servicedesk.escalation import levels, selectors
from servicedesk.escalation.levels import Direction, EscalationNotAllowed, InvalidEscalation
from servicedesk.escalation.models import (
    Contract,
    Escalation,
    EscalationKind,
    Release,
    VendorChannel,
    VendorMessage,
)
from servicedesk.escalation.models import Direction as MessageDirection
from servicedesk.sla import services as sla
from servicedesk.tickets import services as tickets
from servicedesk.tickets import workflow
from servicedesk.tickets.models import Attachment, Comment, EventKind, Ticket
from servicedesk.tickets.services import history_ref, require_staff
from servicedesk.tickets.workflow import ACTIVE, Status


def _locked(ticket: Ticket) -> Ticket:
    found = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("group")
        .filter(pk=ticket.pk)
        .first()
    )
    if found is None:
        raise NotFound(gettext_noop("No such ticket."))
    return found


def _check_active(ticket: Ticket) -> None:
    if Status(ticket.status) not in ACTIVE:
        raise EscalationNotAllowed(
            gettext_noop("A %(status)s ticket is not escalated: re-open it first."),
            status=Term(workflow.LABELS[Status(ticket.status)]),
        )


def _level_of(ticket: Ticket) -> levels.Level | None:
    return levels.Level(ticket.group.level) if ticket.group_id and ticket.group.level else None


def receiving_group(level: levels.Level) -> Group | None:
    """The group that receives tickets escalated to ``level``: the one that takes new
    tickets if it is at that level, else the first by name."""
    return Group.objects.filter(level=level).order_by("-is_default_intake", "name", "pk").first()


def _group_for(level: levels.Level, group: Group | None) -> Group:
    if group is None:
        group = receiving_group(level)
        if group is None:
            raise InvalidEscalation(
                gettext_noop("No group works at %(level)s: create one first."),
                level=Term(levels.LABELS[level]),
            )
    elif group.level != level:
        raise InvalidEscalation(
            gettext_noop("%(group)s is not at %(level)s."),
            group=group.name,
            level=Term(levels.LABELS[level]),
        )
    return group


def _touch(ticket: Ticket, at: datetime) -> None:
    """Every change to a ticket moves ``updated_at`` (ETags, lists by last change)."""
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=at)
    ticket.updated_at = at


def _announce(
    escalation: Escalation,
    *,
    by: User | None,
    at: datetime,
    next_update_by: datetime | None = None,
) -> None:
    vendor = escalation.vendor
    tickets.record_event(
        escalation.ticket,
        by=by,
        at=at,
        kind=EventKind.ESCALATED,
        field=escalation.kind,
        old={"level": escalation.from_level} if escalation.from_level else None,
        new={
            "escalation": escalation.pk,
            "kind": escalation.kind,
            "target": escalation.target,
            "level": escalation.to_level or None,
            "group": history_ref(escalation.group),
            "vendor": history_ref(vendor),
            "reference": escalation.vendor_reference,
            "promised_by": escalation.promised_by and escalation.promised_by.isoformat(),
            "next_update_by": next_update_by and next_update_by.isoformat(),
            "notify_customer": escalation.notify_customer,
            "no_notice_reason": escalation.no_notice_reason,
        },
        reason=escalation.reason,
        internal=True,  # the desk's working notes; the customer hears by the desk's update
    )


@transaction.atomic
def escalate_internal(
    *,
    ticket: Ticket,
    to_level: str,
    reason: str,
    by: User | None,
    group: Group | None = None,
    notify_customer: bool = True,
    no_notice_reason: str = "",
    next_update_by: datetime | None = None,
) -> Escalation:
    """Hand ``ticket`` up to ``to_level`` (L2, L3), to ``group`` or that level's receiving
    group, with a reason. The ticket keeps its history, status and SLA clocks; only its group
    changes (through ``tickets.services.move_to_group``). The group's OLA clock starts, if it
    has a response target; ``next_update_by``, the update the customer is told to expect,
    sets the next-update clock."""
    require_staff(by, gettext_noop("escalate tickets"))
    level = levels.parse_level(to_level)
    levels.check_notice(notify_customer=notify_customer, no_notice_reason=no_notice_reason)
    if next_update_by is not None:
        sla.check_next_update(due_at=next_update_by, at=clock.now())
    ticket = _locked(ticket)
    _check_active(ticket)
    current = _level_of(ticket)
    levels.check_move(current, level, want=Direction.ESCALATION, reason=reason)
    group = _group_for(level, group)
    now = clock.now()
    ticket = tickets.move_to_group(ticket=ticket, group=group, by=by, reason=reason)
    escalation = Escalation.objects.create(
        ticket=ticket,
        kind=EscalationKind.INTERNAL,
        reason=reason.strip(),
        from_level=current or levels.ENTRY,
        to_level=level,
        group=group,
        notify_customer=notify_customer,
        no_notice_reason="" if notify_customer else no_notice_reason.strip(),
        created_by=by,
        created_at=now,
    )
    sla.start_ola(ticket=ticket, group=group, at=now)
    if next_update_by is not None:
        sla.set_next_update(ticket=ticket, due_at=next_update_by, at=now, by=by)
    _announce(escalation, by=by, at=now, next_update_by=next_update_by)
    _touch(ticket, now)
    return escalation


@transaction.atomic
def de_escalate(
    *,
    ticket: Ticket,
    reason: str,
    by: User | None,
    to_level: str | None = None,
    group: Group | None = None,
) -> Ticket:
    """Hand ``ticket`` back down to ``to_level`` (default: one level below where it is), to
    ``group`` or that level's receiving group. The internal escalations above that level
    end (``closed_at``); history and clocks stay."""
    require_staff(by, gettext_noop("de-escalate tickets"))
    ticket = _locked(ticket)
    _check_active(ticket)
    current = _level_of(ticket)
    level = levels.level_below(current) if to_level is None else levels.parse_level(to_level)
    levels.check_move(current, level, want=Direction.DE_ESCALATION, reason=reason)
    group = _group_for(level, group)
    now = clock.now()
    ticket = tickets.move_to_group(ticket=ticket, group=group, by=by, reason=reason)
    above = [lv for lv in levels.ORDER if levels.ORDER.index(lv) > levels.ORDER.index(level)]
    ended = list(
        Escalation.objects.open()
        .filter(ticket=ticket, kind=EscalationKind.INTERNAL, to_level__in=above)
        .values_list("pk", flat=True)
    )
    Escalation.objects.filter(pk__in=ended).update(closed_at=now)
    tickets.record_event(
        ticket,
        by=by,
        at=now,
        kind=EventKind.DE_ESCALATED,
        field=EscalationKind.INTERNAL,
        old={"level": current or levels.ENTRY},
        new={
            "kind": EscalationKind.INTERNAL,
            "target": str(level),
            "level": str(level),
            "group": history_ref(group),
            "escalations": ended,
        },
        reason=reason.strip(),
        internal=True,
    )
    _touch(ticket, now)
    return ticket


def _sent_items(
    ticket: Ticket, comments: Sequence[int], attachments: Sequence[int]
) -> dict[str, list[int]]:
    """The thread entries and files chosen to go to the vendor: all of this ticket's."""
    comments, attachments = list(dict.fromkeys(comments)), list(dict.fromkeys(attachments))
    found = set(Comment.objects.filter(ticket=ticket, pk__in=comments).values_list("pk", flat=True))
    if missing := [pk for pk in comments if pk not in found]:
        raise InvalidEscalation(
            gettext_noop("sent_items: no reply or note %(ids)s on this ticket."),
            ids=", ".join(map(str, missing)),
        )
    found = set(
        Attachment.objects.filter(ticket=ticket, pk__in=attachments).values_list("pk", flat=True)
    )
    if missing := [pk for pk in attachments if pk not in found]:
        raise InvalidEscalation(
            gettext_noop("sent_items: no attachment %(ids)s on this ticket."),
            ids=", ".join(map(str, missing)),
        )
    return {"comments": comments, "attachments": attachments}


@transaction.atomic
def escalate_to_vendor(
    *,
    ticket: Ticket,
    vendor: Vendor,
    reason: str,
    by: User | None,
    reference: str = "",
    contact: str = "",
    channel: str = VendorChannel.EMAIL,
    promised_by: datetime | None = None,
    sent_comments: Sequence[int] = (),
    sent_attachments: Sequence[int] = (),
    contract: str = Contract.CONTRACT,
    notify_customer: bool = True,
    no_notice_reason: str = "",
    next_update_by: datetime | None = None,
) -> Escalation:
    """Escalate ``ticket`` out to ``vendor``: their reference and contact, the channel used,
    the date they promised an answer by, what was sent to them (ids of the ticket's thread
    entries and attachments), under the maintenance contract or needing a quote.

    The ticket moves to waiting on third party (if the workflow allows it from where it is;
    a second vendor leaves it there). The desk keeps ownership: group and assignee stay, and
    the customer's SLA clocks keep running (``sla.rules``: waiting on a third party pauses
    nothing). The expected next update, ``next_update_by`` or else the vendor's
    ``promised_by``, sets the next-update clock."""
    require_staff(by, gettext_noop("escalate tickets"))
    if not reason.strip():
        raise InvalidEscalation(gettext_noop("Say why the ticket is escalated."))
    if channel not in VendorChannel.values:
        raise InvalidEscalation(gettext_noop("Unknown channel %(channel)r."), channel=channel)
    if contract not in Contract.values:
        raise InvalidEscalation(
            gettext_noop("contract: %(contract)r is neither 'contract' nor 'quote'."),
            contract=contract,
        )
    levels.check_notice(notify_customer=notify_customer, no_notice_reason=no_notice_reason)
    now = clock.now()
    if promised_by is not None and promised_by.tzinfo is None:
        raise InvalidEscalation(gettext_noop("promised_by: give the time zone (or Z for UTC)."))
    if promised_by is not None and promised_by <= now:
        raise InvalidEscalation(gettext_noop("promised_by: the vendor's date must be ahead."))
    if next_update_by is not None:
        sla.check_next_update(due_at=next_update_by, at=now)
    ticket = _locked(ticket)
    sent = _sent_items(ticket, sent_comments, sent_attachments)
    if Status(ticket.status) != Status.WAITING_ON_THIRD_PARTY:
        workflow.check_transition(
            Status(ticket.status),
            Status.WAITING_ON_THIRD_PARTY,
            actor=tickets.actor_of(by),
            reason=reason,
        )
        ticket = tickets.change_status(
            ticket=ticket, to=Status.WAITING_ON_THIRD_PARTY, by=by, reason=reason
        )
    escalation = Escalation.objects.create(
        ticket=ticket,
        kind=EscalationKind.VENDOR,
        reason=reason.strip(),
        vendor=vendor,
        vendor_reference=reference.strip(),
        vendor_contact=contact.strip(),
        channel=channel,
        promised_by=promised_by,
        sent_items=sent,
        contract=contract,
        notify_customer=notify_customer,
        no_notice_reason="" if notify_customer else no_notice_reason.strip(),
        created_by=by,
        created_at=now,
    )
    expected = next_update_by or promised_by
    if expected is not None:
        sla.set_next_update(ticket=ticket, due_at=expected, at=now, by=by)
    _announce(escalation, by=by, at=now, next_update_by=next_update_by)
    _touch(ticket, now)
    return escalation


@transaction.atomic
def return_from_vendor(
    *,
    escalation: Escalation,
    by: User | None,
    reason: str = "",
    to_status: str = Status.IN_PROGRESS,
) -> Escalation:
    """The vendor's part is done: the escalation ends; the ticket leaves waiting on third
    party for ``to_status`` unless another vendor escalation is still open."""
    require_staff(by, gettext_noop("de-escalate tickets"))
    if escalation.kind != EscalationKind.VENDOR:
        raise EscalationNotAllowed(
            gettext_noop("This is an internal escalation: take the ticket back down a level.")
        )
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("vendor")
        .get(pk=escalation.pk)
    )
    if escalation.closed_at is not None:
        raise EscalationNotAllowed(gettext_noop("This escalation has ended already."))
    ticket = _locked(escalation.ticket)
    now = clock.now()
    escalation.closed_at = now
    escalation.save(update_fields=["closed_at"])
    others = Escalation.objects.open().filter(ticket=ticket, kind=EscalationKind.VENDOR)
    if ticket.status == Status.WAITING_ON_THIRD_PARTY and not others.exists():
        ticket = tickets.change_status(ticket=ticket, to=to_status, by=by, reason=reason)
    escalation.ticket = ticket
    tickets.record_event(
        ticket,
        by=by,
        at=now,
        kind=EventKind.DE_ESCALATED,
        field=EscalationKind.VENDOR,
        new={
            "escalation": escalation.pk,
            "kind": EscalationKind.VENDOR,
            "target": escalation.target,
            "vendor": history_ref(escalation.vendor),
            "reference": escalation.vendor_reference,
        },
        reason=reason.strip(),
        internal=True,
    )
    _touch(ticket, now)
    return escalation


def response_time(escalation: Escalation):
    """How long the vendor took to answer first (None while unanswered)."""
    if escalation.answered_at is None:
        return None
    return escalation.answered_at - escalation.created_at


@transaction.atomic
def record_vendor_answer(
    *, escalation: Escalation, at: datetime | None = None, by: User | None = None
) -> Escalation:
    """The vendor answered (by mail, phone...): the first answer is recorded once, for the
    vendor's response time; later answers change nothing here. ``by``: the member of staff who
    logs it, None when the vendor's mail arrives by itself."""
    require_staff(by, gettext_noop("record a vendor's answer"))
    if escalation.kind != EscalationKind.VENDOR:
        raise EscalationNotAllowed(gettext_noop("Only a vendor escalation has a vendor's answer."))
    at = at or clock.now()
    if at < escalation.created_at:
        raise InvalidEscalation(gettext_noop("The answer cannot come before the escalation."))
    won = Escalation.objects.filter(pk=escalation.pk, answered_at=None).update(answered_at=at)
    escalation = Escalation.objects.select_related("ticket", "vendor").get(pk=escalation.pk)
    if not won:
        return escalation
    seconds = int(response_time(escalation).total_seconds())
    tickets.record_event(
        escalation.ticket,
        by=by,
        at=at,
        kind=EventKind.VENDOR_ANSWER,
        field=EscalationKind.VENDOR,
        new={
            "escalation": escalation.pk,
            "vendor": history_ref(escalation.vendor),
            "reference": escalation.vendor_reference,
            "response_seconds": seconds,
            "promised_by": escalation.promised_by and escalation.promised_by.isoformat(),
            "late": escalation.promised_by is not None and at > escalation.promised_by,
        },
        internal=True,
    )
    _touch(escalation.ticket, clock.now())
    return escalation


@transaction.atomic
def record_bug(
    *,
    escalation: Escalation,
    bug_reference: str,
    by: User | None,
    release: Release | None = None,
) -> Escalation:
    """The vendor confirmed a bug: their bug reference and, once known, the release that will
    fix it (``mark_release_shipped`` lists the tickets waiting on it)."""
    require_staff(by, gettext_noop("record a vendor's bug"))
    if escalation.kind != EscalationKind.VENDOR:
        raise EscalationNotAllowed(gettext_noop("Only a vendor escalation has a vendor's bug."))
    if release is not None and release.vendor_id != escalation.vendor_id:
        raise InvalidEscalation(gettext_noop("That release is not this vendor's."))
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    old = {
        "bug_reference": escalation.vendor_bug_reference,
        "release": history_ref(escalation.fix_release),
    }
    escalation.vendor_bug_reference = bug_reference.strip()
    escalation.fix_release = release
    new = {"bug_reference": escalation.vendor_bug_reference, "release": history_ref(release)}
    if old == new:
        return escalation
    escalation.save(update_fields=["vendor_bug_reference", "fix_release"])
    now = clock.now()
    tickets.record_event(
        escalation.ticket,
        by=by,
        at=now,
        kind=EventKind.FIELD,
        field="vendor_bug",
        old=old,
        new={**new, "escalation": escalation.pk},
        internal=True,
    )
    _touch(escalation.ticket, now)
    return escalation


@transaction.atomic
def add_release(*, vendor: Vendor, name: str, by: User | None) -> Release:
    """The release ``name`` of ``vendor``, created if new (a bug's fix is often named before
    the vendor ships it)."""
    require_staff(by, gettext_noop("add releases"))
    name = name.strip()
    if not name:
        raise InvalidEscalation(gettext_noop("Name the release."))
    release, _created = Release.objects.get_or_create(
        vendor=vendor, name=name[:100], defaults={"created_at": clock.now()}
    )
    return release


@transaction.atomic
def mark_release_shipped(*, release: Release, by: User | None) -> list[Ticket]:
    """The vendor shipped ``release``: record when (once), and return the active tickets
    waiting on it (an escalation naming it as the fix), for the desk to follow up."""
    require_staff(by, gettext_noop("mark releases shipped"))
    now = clock.now()
    Release.objects.filter(pk=release.pk, shipped_at=None).update(shipped_at=now)
    release.refresh_from_db()
    return list(
        Ticket.objects.filter(
            escalations__fix_release=release, status__in=[s.value for s in ACTIVE]
        )
        .distinct()
        .select_related("requester", "organisation")
        .order_by("number")
    )


@dataclass
class SweepResult:
    overdue: list[int] = field(default_factory=list)  # escalation ids recorded overdue now


def sweep_vendor_promises(*, now: datetime | None = None, batch: int = 500) -> SweepResult:
    """Record a ``vendor_overdue`` event once for each open vendor escalation whose promised
    date has passed without an answer (the owner is reminded by its subscribers). Safe to
    run twice, or in two processes at once: a guarded update decides who records each."""
    now = now or clock.now()
    result = SweepResult()
    last_pk = 0
    while True:
        rows = list(
            Escalation.objects.filter(
                selectors.overdue_condition(now), overdue_recorded_at=None, pk__gt=last_pk
            )
            .select_related("ticket", "vendor")
            .order_by("pk")[:batch]
        )
        for row in rows:
            with transaction.atomic():
                won = Escalation.objects.filter(
                    pk=row.pk, answered_at=None, closed_at=None, overdue_recorded_at=None
                ).update(overdue_recorded_at=now)
                if not won:
                    continue
                tickets.record_event(
                    row.ticket,
                    by=None,
                    at=row.promised_by,
                    kind=EventKind.VENDOR_OVERDUE,
                    field=EscalationKind.VENDOR,
                    new={
                        "escalation": row.pk,
                        "vendor": history_ref(row.vendor),
                        "reference": row.vendor_reference,
                        "promised_by": row.promised_by.isoformat(),
                    },
                    internal=True,
                )
            result.overdue.append(row.pk)
        if len(rows) < batch:
            return result
        last_pk = rows[-1].pk


# -- the vendor's thread -------------------------------------------------------------------


def _vendor_message_event(message: VendorMessage, *, by: User | None) -> None:
    escalation = message.escalation
    tickets.record_event(
        escalation.ticket,
        by=by,
        at=message.created_at,
        kind=EventKind.VENDOR_MESSAGE,
        field=message.direction,
        new={
            "escalation": escalation.pk,
            "message": message.pk,
            "direction": message.direction,
            "vendor": history_ref(escalation.vendor),
        },
        internal=True,
    )


@transaction.atomic
def write_to_vendor(*, escalation: Escalation, body: str, by: User | None) -> VendorMessage:
    """Add a message of the desk to ``escalation``'s vendor thread; its subscriber mails it
    to the vendor (``selectors.vendor_address``) in that thread."""
    require_staff(by, gettext_noop("write to vendors"))
    if escalation.kind != EscalationKind.VENDOR:
        raise EscalationNotAllowed(gettext_noop("Only a vendor escalation has a vendor thread."))
    if not body.strip():
        raise InvalidEscalation(gettext_noop("Write the message to the vendor."))
    escalation = Escalation.objects.select_related("ticket", "vendor").get(pk=escalation.pk)
    if escalation.closed_at is not None:
        raise EscalationNotAllowed(gettext_noop("This escalation has ended already."))
    if not selectors.vendor_address(escalation):
        raise InvalidEscalation(
            gettext_noop("%(vendor)s has no email address: give a contact address first."),
            vendor=escalation.vendor.name,
        )
    now = clock.now()
    message = VendorMessage.objects.create(
        escalation=escalation,
        direction=MessageDirection.OUT,
        author=by,
        body=body.strip(),
        created_at=now,
    )
    _vendor_message_event(message, by=by)
    _touch(escalation.ticket, now)
    return message


@transaction.atomic
def receive_vendor_message(
    *,
    escalation: Escalation,
    sender: str,
    subject: str,
    body: str,
    message_id: str = "",
    at: datetime | None = None,
) -> VendorMessage:
    """The vendor wrote (by email): the message joins ``escalation``'s vendor thread, never
    the customer's, and the first answer is recorded for the vendor review."""
    at = at or clock.now()
    escalation = Escalation.objects.select_related("ticket", "vendor").get(pk=escalation.pk)
    message = VendorMessage.objects.create(
        escalation=escalation,
        direction=MessageDirection.IN,
        sender=sender[:254],
        subject=subject[:300],
        body=body,
        message_id=message_id[:255],
        created_at=at,
    )
    _vendor_message_event(message, by=None)
    record_vendor_answer(escalation=escalation, at=max(at, escalation.created_at))
    _touch(escalation.ticket, at)
    return message
