"""/api/v1/changes: change requests (SPEC §7) — open, list, read, edit, plan, move through
the stages, the customer administrator's decision, urgent; and a ticket turned into one
(/api/v1/tickets/{number}/convert-to-change). The rules are ``changes.services``'."""

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse
from django.utils.translation import gettext_noop
from ninja import Body, Path, Query, Router
from ninja import Status as Answer

from servicedesk.accounts.models import Organisation, User, Vendor
from servicedesk.api.change_schemas import (
    ApprovalIn,
    ChangeIn,
    ChangeOut,
    ChangePage,
    ChangePatch,
    ConvertIn,
    StageIn,
    StepIn,
)
from servicedesk.api.common import (
    CHANGE_ERRORS,
    ERRORS,
    InvalidReference,
    PreconditionFailed,
    caller,
    etag,
    locked_ticket,
    reference,
)
from servicedesk.api.present import person, ref
from servicedesk.api.schemas import Id
from servicedesk.api.tickets import InvalidQuery, TicketPath
from servicedesk.changes import selectors, services, workflow
from servicedesk.changes.models import TEXT_FIELDS, ChangeRequest, PlanStep
from servicedesk.core.errors import NotFound
from servicedesk.tickets.models import Product
from servicedesk.tickets.references import format_reference, parse_reference

router = Router()

_EXAMPLE = format_reference(1042, settings.SERVICEDESK_CHANGE_PREFIX)
ChangePath = Annotated[
    str,
    Path(
        description=f"The change request's number (`1042`) or reference (`{_EXAMPLE}`).",
        examples=[_EXAMPLE, "1042"],
    ),
]
Plan = Annotated[list[StepIn], Body(max_length=100)]


# -- presenting -------------------------------------------------------------------------------


def _approval(change: ChangeRequest) -> dict | None:
    if not change.decision:
        return None
    return {
        "decision": change.decision,
        "by": person(change.decided_by),
        "at": change.decided_at,
        "comment": change.decision_comment,
    }


def present_changes(rows: Sequence[ChangeRequest], *, viewer: User) -> list[dict]:
    """CRs (from ``selectors.visible``: their relations selected) as JSON-ready dicts, as ``viewer`` sees them; their
    plans read in one query for the whole page. The vendor is the desk's business."""
    plans: dict[int, list[dict]] = defaultdict(list)
    for step in PlanStep.objects.filter(change_id__in=[c.pk for c in rows]).order_by(
        "change_id", "position"
    ):
        plans[step.change_id].append(
            {
                "position": step.position,
                "description": step.description,
                "due_on": step.due_on,
                "responsible": step.responsible,
                "done": step.done,
            }
        )
    staff = viewer.is_staff
    return [
        {
            "number": c.number,
            "reference": c.reference,
            "title": c.title,
            "description": c.description,
            "stage": c.stage,
            "ticket": c.ticket.number if c.ticket_id else None,
            "organisation": ref(c.organisation),
            "requested_at": c.requested_at,
            "requested_by": person(c.requester),
            "product": ref(c.product),
            "scope": c.scope,
            "owner": person(c.assignee),
            "vendor": ref(c.vendor) if staff else None,
            "urgent": c.urgent,
            "chargeable": c.chargeable,
            "effort_hours": None if c.effort_hours is None else float(c.effort_hours),
            "feasibility": c.feasibility,
            "impact": c.impact,
            "risk": c.risk,
            "resources": c.resources,
            "approval_round": c.approval_round,
            "approval_requested_at": c.approval_requested_at,
            "approval": _approval(c),
            "scheduled_for": c.scheduled_for,
            "test_outcome": c.test_outcome,
            "kpis_met": c.kpis_met,
            "lessons_learned": c.lessons_learned,
            "plan": plans[c.pk],
            "allowed_moves": workflow.allowed_moves(c.stage, c.facts) if staff else [],
            "updated_at": c.updated_at,
            "closed_at": c.closed_at,
        }
        for c in rows
    ]


def change_number(name: str | int) -> int:
    """The number a path names (``1042`` or ``CR-1042``); anything else names no CR (404)."""
    number = parse_reference(str(name), settings.SERVICEDESK_CHANGE_PREFIX)
    if number is None:
        raise NotFound(gettext_noop("No such change request."))
    return number


def _answer(request, response: HttpResponse, number: int, status: int = 200):
    """The CR as the caller sees it now, with its ``ETag``."""
    user = caller(request)
    change = selectors.get_change(user, number)
    response["ETag"] = etag(change)
    return Answer(status, present_changes([change], viewer=user)[0])


def locked_change(request, name: str) -> ChangeRequest:
    """The CR ``name`` names, under a row lock, as the caller may see it (404 otherwise);
    checks ``If-Match`` against its ``ETag`` (412). Call inside ``transaction.atomic()``."""
    assert transaction.get_connection().in_atomic_block
    change = (
        ChangeRequest.objects.visible_to(caller(request))
        .select_for_update()
        .filter(number=change_number(name))
        .first()
    )
    if change is None:
        raise NotFound(gettext_noop("No such change request."))
    expected = request.headers.get("If-Match")
    if expected:
        tags = {t.strip().removeprefix("W/") for t in expected.split(",")}
        if "*" not in tags and etag(change) not in tags:
            raise PreconditionFailed(
                gettext_noop(
                    "The change request changed since you read it: read it again (its ETag) "
                    "and retry."
                )
            )
    return change


# -- opening ----------------------------------------------------------------------------------


def _open(user: User, data: ChangeIn) -> ChangeRequest:
    organisations = Organisation.objects.visible_to(user)  # another's: as if none had the id
    organisation = reference(organisations, data.organisation, "organisation")
    if user.is_staff:
        if organisation is None or not data.requester_email:
            raise InvalidReference(
                gettext_noop(
                    "organisation, requester_email: staff open a change request for a "
                    "customer organisation, in the name of one of its contacts."
                )
            )
        requester = User.objects.filter(
            email=data.requester_email.lower(),
            organisation=organisation,
            is_staff=False,
            is_active=True,
        ).first()
        if requester is None:
            raise InvalidReference(
                gettext_noop("requester_email: not a contact of that organisation.")
            )
    else:
        # The same answer for a colleague's address as for nobody's.
        if data.requester_email and data.requester_email.lower() != user.email:
            raise InvalidReference(
                gettext_noop("requester_email: customers request changes in their own name.")
            )
        organisation = organisation or user.organisation
        requester = user
    if organisation is None:
        raise InvalidReference(
            gettext_noop("organisation: a change request is for a customer organisation.")
        )
    return services.open_change(
        organisation=organisation,
        requester=requester,
        title=data.title,
        description=data.description,
        by=user,
        product=reference(Product, data.product, "product"),
        scope=str(data.scope),
        urgent=data.urgent,
    )


@router.post("changes", response={201: ChangeOut, **CHANGE_ERRORS}, summary="Open a change request")
def create_change(request, response: HttpResponse, data: ChangeIn):
    """Staff open one for any organisation, in the name of one of its contacts
    (``requester_email``); a customer opens one for their organisation in their own name. It
    is routed to the product's vendor (``scope`` standard) or the organisation's project lead
    (customisation)."""
    with transaction.atomic():
        change = _open(caller(request), data)
    return _answer(request, response, change.number, 201)


@router.post(
    "tickets/{number}/convert-to-change",
    response={201: ChangeOut, **CHANGE_ERRORS},
    summary="Turn a ticket into a change request",
)
def convert_ticket(request, response: HttpResponse, number: TicketPath, data: ConvertIn):
    """The desk's move: the CR links back to the ticket, which is closed as converted (its
    requester is told). A ticket is converted once (422 the second time). The body may be
    ``{}``: a customisation, no reason."""
    with transaction.atomic():
        ticket = locked_ticket(request, number)
        change = services.convert_ticket(
            ticket=ticket, by=caller(request), scope=str(data.scope), reason=data.reason
        )
    return _answer(request, response, change.number, 201)


# -- listing and reading ----------------------------------------------------------------------

ORDERINGS = ("-requested_at", "requested_at", "-updated_at", "updated_at", "-number", "number")


def _encode_cursor(change: ChangeRequest, ordering: str) -> str:
    value = getattr(change, ordering.lstrip("-"))
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([ordering, value, change.number]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str, ordering: str) -> Q:
    """The keyset condition for the rows after ``cursor`` (ties broken by number)."""
    field = ordering.lstrip("-")
    op = "lt" if ordering.startswith("-") else "gt"
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, number = json.loads(raw)
        if kind != ordering or not isinstance(number, int) or not 0 < number < 2**63:
            raise ValueError
        if field != "number":
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:  # ours are aware: another cannot come from this listing
                raise ValueError
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidQuery(
            gettext_noop("cursor: not a cursor from this listing and ordering.")
        ) from None
    if field == "number":
        return Q(**{f"number__{op}": number})
    return Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"number__{op}": number})


def _order_by(ordering: str) -> list[str]:
    if ordering.lstrip("-") == "number":
        return [ordering]
    return [ordering, "-number" if ordering.startswith("-") else "number"]


@router.get("changes", response={200: ChangePage, **ERRORS}, summary="List change requests")
def list_changes(
    request,
    stage: str | None = Query(None, description="One or more stages, comma-separated."),
    organisation: Id | None = None,
    urgent: bool | None = None,
    owner: str | None = Query(
        None, max_length=19, description="A staff user's id, `me` or `none`."
    ),
    ordering: str = Query("-requested_at", description="One of " + ", ".join(ORDERINGS) + "."),
    cursor: str | None = Query(None, max_length=400),
    limit: int = Query(25, ge=1, le=100),
):
    """The change requests the token's user may see (customers: their organisation's, or
    their own), by default the latest request first; the next page by ``cursor``."""
    user = caller(request)
    if ordering not in ORDERINGS:
        raise InvalidQuery(
            gettext_noop("ordering: one of %(orderings)s."), orderings=", ".join(ORDERINGS)
        )
    rows = selectors.visible(user)
    if stages := [part.strip() for part in (stage or "").split(",") if part.strip()]:
        unknown = set(stages) - {s.value for s in workflow.Stage}
        if unknown:
            raise InvalidQuery(
                gettext_noop("stage: unknown %(stages)s."), stages=", ".join(sorted(unknown))
            )
        rows = rows.filter(stage__in=stages)
    if organisation is not None:
        rows = rows.filter(organisation_id=organisation)
    if urgent is not None:
        rows = rows.filter(urgent=urgent)
    if owner == "me":
        rows = rows.filter(assignee_id=user.pk)
    elif owner == "none":
        rows = rows.filter(assignee__isnull=True)
    elif owner:
        if not (owner.isascii() and owner.isdigit()) or int(owner) >= 2**63:
            raise InvalidQuery(gettext_noop("owner: a user id, `me` or `none`."))
        rows = rows.filter(assignee_id=int(owner))
    if cursor:
        rows = rows.filter(_after(cursor, ordering))
    page = list(rows.order_by(*_order_by(ordering))[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "items": present_changes(page, viewer=user),
        "next_cursor": _encode_cursor(page[-1], ordering) if more else None,
    }


@router.get(
    "changes/{number}", response={200: ChangeOut, **ERRORS}, summary="Read a change request"
)
def get_change(request, response: HttpResponse, number: ChangePath):
    """With an ``ETag``: send it back as ``If-Match`` with a change to be sure nobody changed
    the CR meanwhile (412 if they did)."""
    return _answer(request, response, change_number(number))


# -- changing ---------------------------------------------------------------------------------


def _references(changes: dict) -> dict:
    """The ids a patch names, as the rows they name (422 for an id nobody has)."""
    if "owner" in changes:
        changes["assignee"] = reference(User, changes.pop("owner"), "owner")
    for name, model in (("product", Product), ("vendor", Vendor)):
        if name in changes:
            changes[name] = reference(model, changes[name], name)
    return changes


@router.patch(
    "changes/{number}", response={200: ChangeOut, **CHANGE_ERRORS}, summary="Edit the record"
)
def update_change(request, response: HttpResponse, number: ChangePath, data: ChangePatch):
    """The desk edits the record: assessment (``chargeable``, ``effort_hours``,
    ``feasibility``, ``impact``, ``risk``, ``resources``), ``owner``, schedule, test outcome,
    review. Each changed field is one event of the CR's history."""
    user = caller(request)
    changes = data.dict(exclude_unset=True)
    for name in TEXT_FIELDS:
        if name in changes and changes[name] is None:
            changes[name] = ""  # null clears a text
    if "scope" in changes and changes["scope"] is not None:
        changes["scope"] = str(changes["scope"])
    with transaction.atomic():
        change = locked_change(request, number)
        if user.is_staff:  # ids are the desk's to name: the service refuses anyone else
            changes = _references(changes)
        else:
            changes.pop("owner", None)
        services.update_change(change=change, by=user, **changes)
    return _answer(request, response, change.number)


@router.put(
    "changes/{number}/plan", response={200: ChangeOut, **CHANGE_ERRORS}, summary="Set the plan"
)
def set_plan(request, response: HttpResponse, number: ChangePath, data: Plan):
    """The implementation plan, replaced by the steps sent, in order (``[]`` clears it)."""
    steps = [services.Step(s.description, s.due_on, s.responsible, s.done) for s in data]
    with transaction.atomic():
        change = locked_change(request, number)
        services.set_plan(change=change, steps=steps, by=caller(request))
    return _answer(request, response, change.number)


@router.post(
    "changes/{number}/stage", response={200: ChangeOut, **CHANGE_ERRORS}, summary="Move a stage"
)
def move_stage(request, response: HttpResponse, number: ChangePath, data: StageIn):
    """409 with the reason when the stage table or a gate does not allow the move: approval
    needs an effort estimate and the chargeable decision, implementation an approval,
    closing a review. Approved and unapproved are the administrator's (POST .../approval)."""
    with transaction.atomic():
        change = locked_change(request, number)
        services.move_stage(
            change=change, to=str(data.stage), by=caller(request), reason=data.reason
        )
    return _answer(request, response, change.number)


@router.post(
    "changes/{number}/approval",
    response={200: ChangeOut, **CHANGE_ERRORS},
    summary="Approve, or not",
)
def decide(request, response: HttpResponse, number: ChangePath, data: ApprovalIn):
    """The customer administrator's decision on a CR awaiting approval: ``approved`` true
    (to be scheduled) or false (kept as unapproved; the desk may re-submit it). Anyone else
    is refused (403); a CR not awaiting a decision, or another round's, is a 409."""
    with transaction.atomic():
        change = locked_change(request, number)
        services.decide(
            change=change,
            approved=data.approved,
            by=caller(request),
            comment=data.comment,
            approval_round=data.approval_round,
        )
    return _answer(request, response, change.number)


@router.post(
    "changes/{number}/urgent", response={200: ChangeOut, **CHANGE_ERRORS}, summary="Mark urgent"
)
def mark_urgent(request, response: HttpResponse, number: ChangePath):
    """Whoever sees a CR not yet approved may mark it urgent: its organisation's
    administrators are emailed at once asking for approval. Marking it again does nothing."""
    with transaction.atomic():
        change = locked_change(request, number)
        services.mark_urgent(change=change, by=caller(request))
    return _answer(request, response, change.number)
