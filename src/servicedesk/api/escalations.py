"""/api/v1/tickets/{number}/escalations and /api/v1/vendors: escalating a ticket up a
support level or out to a vendor (SPEC §6). The desk's alone: customers get 404."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from ninja import Router
from ninja import Status as Answer

from servicedesk.accounts.models import Group, User, Vendor
from servicedesk.api import present
from servicedesk.api.common import (
    CHANGE_ERRORS,
    ERRORS,
    caller,
    locked_ticket,
    reference,
    require_staff,
    ticket_number,
)
from servicedesk.api.schemas import EscalationIn, EscalationOut, VendorOut
from servicedesk.api.tickets import TicketPath
from servicedesk.escalation import selectors, services
from servicedesk.escalation.levels import InvalidEscalation
from servicedesk.escalation.models import Escalation
from servicedesk.tickets import selectors as ticket_selectors
from servicedesk.tickets.models import Ticket

router = Router()


def _escalate(user: User, ticket: Ticket, data: EscalationIn) -> Escalation:
    if data.kind == "internal":
        if data.level is None:
            raise InvalidEscalation(gettext_noop("level: an internal escalation names a level."))
        if data.vendor is not None:
            raise InvalidEscalation(gettext_noop("vendor: only for a vendor escalation."))
        return services.escalate_internal(
            ticket=ticket,
            to_level=str(data.level),
            reason=data.reason,
            by=user,
            group=reference(Group, data.group, "group"),
            notify_customer=data.notify_customer,
            no_notice_reason=data.no_notice_reason,
            next_update_by=data.next_update_by,  # naive or past: refused (422)
        )
    if data.vendor is None:
        raise InvalidEscalation(gettext_noop("vendor: a vendor escalation names a vendor."))
    if data.level is not None or data.group is not None:
        raise InvalidEscalation(gettext_noop("level, group: only for an internal escalation."))
    promised_by = data.promised_by
    if promised_by is not None and timezone.is_naive(promised_by):  # read as Django reads it
        promised_by = timezone.make_aware(promised_by, timezone.get_default_timezone())
    sent = data.sent_items
    return services.escalate_to_vendor(
        ticket=ticket,
        vendor=reference(Vendor, data.vendor, "vendor"),
        reason=data.reason,
        by=user,
        reference=data.reference,
        contact=data.contact,
        channel=str(data.channel),
        promised_by=promised_by,
        sent_comments=sent.comments if sent else (),
        sent_attachments=sent.attachments if sent else (),
        contract=str(data.contract),
        notify_customer=data.notify_customer,
        no_notice_reason=data.no_notice_reason,
        next_update_by=data.next_update_by,
    )


@router.post(
    "tickets/{number}/escalations",
    response={201: EscalationOut, **CHANGE_ERRORS},
    summary="Escalate",
)
def escalate(request, number: TicketPath, data: EscalationIn):
    """Up a support level (``{"kind": "internal", "level": "L2", "reason": …}``: the ticket
    moves to that level's group, keeping its history and SLA) or out to a vendor
    (``{"kind": "vendor", "vendor": <id>, "reference": …, "promised_by": …, "reason": …}``:
    the ticket waits on the third party; the customer's SLA keeps running)."""
    user = caller(request)
    require_staff(user)
    with transaction.atomic():
        ticket = locked_ticket(request, number)
        escalation = _escalate(user, ticket, data)
    return Answer(201, present.escalation(selectors.with_overdue().get(pk=escalation.pk)))


@router.get(
    "tickets/{number}/escalations",
    response={200: list[EscalationOut], **ERRORS},
    summary="Escalations",
)
def list_escalations(request, number: TicketPath):
    """The ticket's escalations, oldest first, with ``overdue`` as of now."""
    user = caller(request)
    require_staff(user)
    ticket = ticket_selectors.get_ticket(user=user, number=ticket_number(number))
    return [present.escalation(row) for row in selectors.escalations_for(ticket)]


@router.get("vendors", response={200: list[VendorOut], **ERRORS}, summary="Vendors")
def list_vendors(request):
    """The vendors and third parties a ticket can be escalated to."""
    require_staff(caller(request))
    return [
        {"id": v.pk, "name": v.name, "kind": v.kind, "email": v.email}
        for v in Vendor.objects.order_by("name", "pk")
    ]
