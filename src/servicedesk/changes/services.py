"""The verbs of change management (SPEC §7): open a CR (directly or from a ticket), assess
it, ask the customer's administrator for approval, record their decision, mark it urgent,
move it through the stages, plan it, and send the monthly Change Request Update reports.

Each service runs in one transaction, records the CR's events and publishes them to the
subscribers (``servicedesk.subscribers``: the mails) in that transaction. The stage table
and its gates are ``workflow.py``; nothing here knows a channel.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext_noop

from servicedesk.accounts.models import CustomerRole, Organisation, User
from servicedesk.changes import workflow
from servicedesk.changes.models import (
    ChangeEvent,
    ChangeEventKind,
    ChangeRequest,
    Decision,
    MonthlyReport,
    PlanStep,
    Scope,
)
from servicedesk.changes.workflow import Stage
from servicedesk.core import clock
from servicedesk.core.errors import DomainError, NotFound, PermissionDenied, Term
from servicedesk.core.events import publish
from servicedesk.tickets import services as tickets
from servicedesk.tickets.models import EventKind, Product, Ticket
from servicedesk.tickets.services import history_ref, require_staff
from servicedesk.tickets.workflow import Status

SEQUENCE = "change"


class InvalidChange(DomainError):
    code = "invalid_change"


def _locked(change: ChangeRequest, by: User | None) -> ChangeRequest:
    """Re-read ``change`` under a row lock, as ``by`` may see it; ``NotFound`` if not."""
    queryset = ChangeRequest.objects.select_for_update()
    if by is not None:
        queryset = queryset.visible_to(by)
    found = queryset.filter(pk=change.pk).first()
    if found is None:
        raise NotFound(gettext_noop("No such change request."))
    return found


def _event(change: ChangeRequest, *, by: User | None, at: datetime, kind: str, **facts: Any):
    return ChangeEvent(change=change, actor=by, at=at, kind=kind, **facts)


def _record(events: list[ChangeEvent]) -> None:
    ChangeEvent.objects.bulk_create(events)
    publish(events)


def _clean_text(value: str | None, *, what: str, required: bool = False, limit: int = 0) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise InvalidChange(gettext_noop("A change request needs %(what)s."), what=Term(what))
    if limit and len(text) > limit:
        raise InvalidChange(
            gettext_noop("The %(what)s is too long (%(limit)s characters at most)."),
            what=Term(what),
            limit=limit,
        )
    return text


def _effort(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise InvalidChange(gettext_noop("The effort estimate is a number of hours.")) from None
    # Finite first: comparing a NaN raises InvalidOperation.
    if not hours.is_finite() or hours < 0 or hours >= 1_000_000:
        raise InvalidChange(gettext_noop("The effort estimate is a number of hours."))
    return hours


def _may_request(by: User, organisation: Organisation) -> None:
    """Staff open CRs for anyone; a customer only for their own organisation."""
    if not by.is_staff and by.organisation_id != organisation.pk:
        raise NotFound(gettext_noop("No such organisation."))


@transaction.atomic
def open_change(
    *,
    organisation: Organisation,
    requester: User,
    title: str,
    description: str,
    by: User,
    product: Product | None = None,
    scope: str = Scope.CUSTOMISATION,
    urgent: bool = False,
    ticket: Ticket | None = None,
) -> ChangeRequest:
    """Open a CR for ``organisation`` asked by ``requester``, routed (SPEC §3) to the
    product's vendor (standard software) or the organisation's project lead."""
    _may_request(by, organisation)
    if requester.is_staff or requester.organisation_id != organisation.pk:
        raise InvalidChange(
            gettext_noop("The requester must be a contact of the change request's organisation.")
        )
    if not by.is_staff and requester.pk != by.pk:
        raise PermissionDenied(gettext_noop("Customers request changes in their own name."))
    if scope not in Scope.values:
        raise InvalidChange(gettext_noop("Unknown scope %(scope)r."), scope=scope)
    title = " ".join(_clean_text(title, what=gettext_noop("title"), required=True).split())
    if len(title) > ChangeRequest._meta.get_field("title").max_length:
        raise InvalidChange(gettext_noop("The title is too long (250 characters at most)."))
    description = _clean_text(description, what=gettext_noop("description"), required=True)
    route = workflow.route(
        customisation=scope == Scope.CUSTOMISATION,
        vendor_id=product.vendor_id if product else None,
        project_lead_id=organisation.project_lead_id,
    )
    now = clock.now()
    change = ChangeRequest.objects.create(
        number=tickets.allocate_numbers(1, SEQUENCE)[0],
        ticket=ticket,
        organisation=organisation,
        requester=requester,
        requested_at=ticket.created_at if ticket else now,
        title=title,
        description=description,
        product=product,
        scope=scope,
        vendor_id=route.vendor_id,
        assignee_id=route.assignee_id,
        urgent=urgent,
        created_by=by,
        updated_at=now,
    )
    kind = ChangeEventKind.CONVERTED if ticket else ChangeEventKind.CREATED
    events = [_event(change, by=by, at=now, kind=kind, new={"ticket": ticket and ticket.number})]
    if urgent:
        events.append(_event(change, by=by, at=now, kind=ChangeEventKind.URGENT, new=True))
    _record(events)
    return change


@transaction.atomic
def convert_ticket(
    *, ticket: Ticket, by: User, scope: str = Scope.CUSTOMISATION, reason: str = ""
) -> ChangeRequest:
    """Turn a support ticket into a change request in one step: the CR links back to the
    ticket, the ticket is closed as converted (its SLA clocks stop) and records the
    conversion, which tells the requester (a subscriber of ``converted``)."""
    require_staff(by, gettext_noop("turn a ticket into a change request"))
    ticket = Ticket.objects.select_for_update().filter(pk=ticket.pk).first()
    if ticket is None:
        raise NotFound(gettext_noop("No such ticket."))
    if ticket.changes.exists():
        raise InvalidChange(gettext_noop("This ticket is already a change request."))
    if ticket.organisation_id is None or ticket.requester.is_staff:
        raise InvalidChange(
            gettext_noop("Only a customer organisation's ticket can become a change request.")
        )
    description = ticket.description or ticket.subject
    if reason:
        description = f"{description}\n\n{reason.strip()}"
    change = open_change(
        organisation=ticket.organisation,
        requester=ticket.requester,
        title=ticket.subject,
        description=description,
        by=by,
        product=ticket.product,
        scope=scope,
        ticket=ticket,
    )
    if ticket.status != Status.CLOSED:
        ticket = tickets.change_status(
            ticket=ticket,
            to=Status.CLOSED,
            by=by,
            # The literal stands outside the f-string so that makemessages extracts it.
            reason=gettext_noop("Converted to change request") + f" {change.reference}",
        )
    else:  # the conversion is the ticket's change
        ticket.updated_at = clock.now()
        ticket.save(update_fields=["updated_at"])
    tickets.record_event(
        ticket,
        by=by,
        at=ticket.updated_at,  # the instant of the closing it explains (recorded after it)
        kind=EventKind.CONVERTED,
        field="change",
        new={"number": change.number, "reference": change.reference},
    )
    return change


# What staff may edit on a CR, outside the stage moves, the plan and the decision.
EDITABLE_FIELDS = (
    "title",
    "description",
    "product",
    "scope",
    "assignee",
    "vendor",
    "chargeable",
    "effort_hours",
    "feasibility",
    "impact",
    "risk",
    "resources",
    "scheduled_for",
    "test_outcome",
    "kpis_met",
    "lessons_learned",
)
_RELATIONS = {"product", "assignee", "vendor"}
# Fields the administrator's approval rests on: changing them while they decide starts over.
_ASSESSED = {"chargeable", "effort_hours", "description", "title", "scope"}


def _history_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@transaction.atomic
def update_change(*, change: ChangeRequest, by: User, **changes: Any) -> ChangeRequest:
    """Change a CR's record (staff only): one event per changed field."""
    require_staff(by, gettext_noop("edit a change request"))
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidChange(
            gettext_noop("These fields cannot be edited here: %(fields)s."),
            fields=", ".join(sorted(unknown)),
        )
    if "effort_hours" in changes:
        changes["effort_hours"] = _effort(changes["effort_hours"])
    if "scope" in changes and changes["scope"] not in Scope.values:
        raise InvalidChange(gettext_noop("Unknown scope %(scope)r."), scope=changes["scope"])
    if "title" in changes:
        changes["title"] = " ".join(
            _clean_text(changes["title"], what=gettext_noop("title"), required=True).split()
        )
    if "description" in changes:
        changes["description"] = _clean_text(
            changes["description"], what=gettext_noop("description"), required=True
        )
    assignee = changes.get("assignee")
    if assignee is not None and not assignee.is_staff:
        raise InvalidChange(gettext_noop("A change request's owner is a desk agent."))
    change = _locked(change, by)
    if change.stage == Stage.AWAITING_APPROVAL and _ASSESSED & set(changes):
        moving = {k for k in _ASSESSED & set(changes) if getattr(change, k) != changes[k]}
        if moving:
            raise workflow.StageNotAllowed(
                gettext_noop(
                    "The administrator is deciding on this estimate: take the change request "
                    "back to assessment before changing it."
                )
            )
    now = clock.now()
    events, changed = [], []
    for name, value in changes.items():
        current = getattr(change, name)
        if name in _RELATIONS:
            if (current.pk if current else None) == (value.pk if value else None):
                continue
            old, new = history_ref(current), history_ref(value)
        else:
            if isinstance(value, str):
                value = value.replace("\r\n", "\n")
            if current == value:
                continue
            old, new = _history_value(current), _history_value(value)
        events.append(
            _event(change, by=by, at=now, kind=ChangeEventKind.FIELD, field=name, old=old, new=new)
        )
        setattr(change, name, value)
        changed.append(name)
    if changed:
        change.updated_at = now
        change.save(update_fields=[*changed, "updated_at"])
        _record(events)
    return change


@dataclass(frozen=True)
class Step:
    description: str
    due_on: date | None = None
    responsible: str = ""
    done: bool = False


@transaction.atomic
def set_plan(*, change: ChangeRequest, steps: Sequence[Step], by: User) -> ChangeRequest:
    """Replace the CR's implementation plan with ``steps`` (in order)."""
    require_staff(by, gettext_noop("plan a change request"))
    change = _locked(change, by)
    rows = []
    for position, step in enumerate(steps, start=1):
        text = _clean_text(step.description, what=gettext_noop("step"), required=True, limit=500)
        responsible = _clean_text(step.responsible, what=gettext_noop("responsible"), limit=200)
        rows.append(
            PlanStep(
                change=change,
                position=position,
                description=text,
                due_on=step.due_on,
                responsible=responsible,
                done=step.done,
            )
        )
    old = [_step_json(s) for s in change.steps.all()]
    new = [_step_json(s) for s in rows]
    if old == new:
        return change
    change.steps.all().delete()
    PlanStep.objects.bulk_create(rows)
    now = clock.now()
    change.updated_at = now
    change.save(update_fields=["updated_at"])
    _record([_event(change, by=by, at=now, kind=ChangeEventKind.PLAN, old=old, new=new)])
    return change


def _step_json(step: PlanStep) -> dict[str, Any]:
    return {
        "description": step.description,
        "due_on": step.due_on.isoformat() if step.due_on else None,
        "responsible": step.responsible,
        "done": step.done,
    }


def _enter(change: ChangeRequest, to: Stage, *, by: User | None, at: datetime, reason: str):
    """Put ``change`` in stage ``to`` (already judged); return the events of the move."""
    old = change.stage
    change.stage = to
    change.updated_at = at
    events = [
        _event(
            change,
            by=by,
            at=at,
            kind=ChangeEventKind.STAGE,
            field="stage",
            old=old,
            new=str(to),
            reason=reason,
        )
    ]
    if to == Stage.AWAITING_APPROVAL:
        # A new round: the administrators are asked (a subscriber mails them the links).
        change.approval_round += 1
        change.approval_requested_at = at
        change.decision, change.decided_by, change.decided_at = "", None, None
        change.decision_comment = ""
        events.append(
            _event(
                change,
                by=by,
                at=at,
                kind=ChangeEventKind.APPROVAL_REQUESTED,
                new={"round": change.approval_round},
            )
        )
    change.closed_at = at if to == Stage.CLOSED else None
    return events


@transaction.atomic
def move_stage(
    *, change: ChangeRequest, to: str, by: User | None, reason: str = ""
) -> ChangeRequest:
    """Move ``change`` to stage ``to`` if the stage table and its gates allow (staff, or the
    desk's automation); raises ``StageNotAllowed`` saying why otherwise."""
    require_staff(by, gettext_noop("move a change request"))
    try:
        target = Stage(to)
    except ValueError:
        raise workflow.StageNotAllowed(gettext_noop("Unknown stage %(stage)r."), stage=to) from None
    change = _locked(change, by)
    workflow.check_move(Stage(change.stage), target, change.facts)
    events = _enter(change, target, by=by, at=clock.now(), reason=reason.strip())
    change.save()
    _record(events)
    return change


def is_administrator_of(user: User | None, organisation_id: int) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and not user.is_staff
        and user.customer_role == CustomerRole.CUSTOMER_ADMIN
        and user.organisation_id == organisation_id
    )


@transaction.atomic
def decide(
    *,
    change: ChangeRequest,
    approved: bool,
    by: User,
    comment: str = "",
    approval_round: int | None = None,
) -> ChangeRequest:
    """Record the customer administrator's decision on a CR awaiting approval: approved
    (to be scheduled) or not (kept, never deleted). ``approval_round``: the round an
    emailed link was made for; a link of an earlier round, or used once, does nothing."""
    change = _locked(change, by)
    if not is_administrator_of(by, change.organisation_id):
        raise PermissionDenied(
            gettext_noop("Only the organisation's administrator approves a change request.")
        )
    if change.stage != Stage.AWAITING_APPROVAL or (
        approval_round is not None and approval_round != change.approval_round
    ):
        raise workflow.StageNotAllowed(
            gettext_noop("This change request is not awaiting your decision any more.")
        )
    comment = _clean_text(comment, what=gettext_noop("comment"), limit=5000)
    target = Stage.APPROVED if approved else Stage.UNAPPROVED
    workflow.check_move(Stage(change.stage), target, change.facts, by_decision=True)
    now = clock.now()
    events = _enter(change, target, by=by, at=now, reason=comment)
    change.decision = Decision.APPROVED if approved else Decision.UNAPPROVED
    change.decided_by, change.decided_at, change.decision_comment = by, now, comment
    change.save()
    events.append(
        _event(
            change,
            by=by,
            at=now,
            kind=ChangeEventKind.DECIDED,
            field="decision",
            new=change.decision,
            reason=comment,
        )
    )
    _record(events)
    return change


@transaction.atomic
def mark_urgent(*, change: ChangeRequest, by: User) -> ChangeRequest:
    """Mark a CR urgent (a customer who may see it, or staff): its organisation's
    administrators are emailed at once (a subscriber of ``change_urgent``)."""
    change = _locked(change, by)
    if change.stage not in workflow.NOT_YET_APPROVED:
        raise workflow.StageNotAllowed(
            gettext_noop("Only a change request not yet approved can be marked urgent.")
        )
    if change.urgent:
        return change
    now = clock.now()
    change.urgent, change.updated_at = True, now
    change.save(update_fields=["urgent", "updated_at"])
    _record([_event(change, by=by, at=now, kind=ChangeEventKind.URGENT, new=True)])
    return change


def administrators(organisation_id: int):
    """The organisation's customer administrators who can be reached."""
    return User.objects.filter(
        organisation_id=organisation_id,
        customer_role=CustomerRole.CUSTOMER_ADMIN,
        is_active=True,
        is_staff=False,
    ).order_by("pk")


def report_month(now: datetime, timezone: str) -> date:
    """The month whose report is due at ``now`` in ``timezone``: the current local month
    (its report falls due at 00:00 on the 1st, local time)."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.date().replace(day=1)


@transaction.atomic
def send_monthly_report(
    *, organisation: Organisation, month: date, now: datetime | None = None
) -> MonthlyReport | None:
    """Record and publish ``organisation``'s Change Request Update report of ``month`` (its
    CRs not yet approved, this month's and earlier) unless it was recorded already: the
    report mail (a subscriber) goes to every administrator. None if nothing new was sent."""
    now = now or clock.now()
    month = month.replace(day=1)
    if MonthlyReport.objects.filter(organisation=organisation, month=month).exists():
        return None
    numbers = list(
        ChangeRequest.objects.filter(organisation=organisation)
        .not_yet_approved()
        .order_by("requested_at", "number")
        .values_list("number", flat=True)
    )
    recipients = list(administrators(organisation.pk).values_list("pk", flat=True))
    report = MonthlyReport.objects.create(
        organisation=organisation,
        month=month,
        created_at=now,
        changes=numbers,
        recipients=recipients,
    )
    if numbers and recipients:
        publish([report])
    return report


def send_due_reports(*, now: datetime | None = None) -> list[MonthlyReport]:
    """The monthly job: every organisation whose month has begun (00:00 on the 1st in its
    time zone) and whose report of that month is not recorded gets it. Idempotent."""
    now = now or clock.now()
    sent = []
    # Months begin at most a day apart around the world: last month's rows are enough.
    since = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    recorded = set(
        MonthlyReport.objects.filter(month__gte=since).values_list("organisation_id", "month")
    )
    for organisation in Organisation.objects.order_by("pk"):
        month = report_month(now, organisation.timezone)
        if (organisation.pk, month) in recorded:
            continue
        report = send_monthly_report(organisation=organisation, month=month, now=now)
        if report is not None:
            sent.append(report)
    return sent
