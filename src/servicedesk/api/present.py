"""Models as the API shows them. Lists are presented in batches: one query for all clocks."""

from collections import defaultdict
from collections.abc import Sequence

from django.urls import reverse

from servicedesk.accounts.models import Organisation, User
from servicedesk.core import clock
from servicedesk.escalation import selectors as escalation_selectors
from servicedesk.escalation.models import Escalation
from servicedesk.sla import rules
from servicedesk.sla.models import INTERNAL_KINDS, ClockKind, TicketClock
from servicedesk.sla.selectors import facts
from servicedesk.tickets import triage
from servicedesk.tickets.models import Comment, Ticket

TICKET_RELATIONS = ("organisation", "requester", "assignee", "group", "product", "category")


def ref(obj) -> dict | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj.name)}


def person(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "email": user.email, "name": user.display_name}


def _assessment(pair) -> dict | None:
    if pair is None:
        return None
    urgency, impact = pair
    return {
        "urgency": urgency,
        "impact": impact,
        "score": triage.score(urgency=urgency, impact=impact),
    }


def _sla(clocks: list[TicketClock]) -> dict:
    """The current clock of each kind of the customer's SLA: when each is due while it runs,
    and the worst state. The desk's own targets (an OLA) are not the customer's SLA: they
    are left out, for everyone (the desk's pages show them)."""
    current: dict[str, TicketClock] = {}
    for row in clocks:  # oldest first: the last of each kind is the current one
        if row.kind not in INTERNAL_KINDS:
            current[row.kind] = row
    due = {kind: r.due_at for kind, r in current.items() if r.met_at is None and not r.stopped}
    overall = rules.ticket_state(map(facts, current.values()), now=clock.now())  # the table
    return {
        "first_response_due": due.get(ClockKind.FIRST_RESPONSE),
        "next_update_due": due.get(ClockKind.NEXT_UPDATE),
        "resolution_due": due.get(ClockKind.RESOLUTION),
        "paused": overall.paused,
        "state": overall.state,
        "explain": None,  # only on a single read: see api.tickets.get_ticket
    }


def escalation_summary(row: Escalation) -> dict:
    """An escalation as the ticket JSON lists it (``row`` annotated with ``overdue``)."""
    return {
        "id": row.pk,
        "kind": row.kind,
        "target": row.target,
        "reference": row.vendor_reference,
        "promised_by": row.promised_by,
        "overdue": bool(row.overdue),
        "answered_at": row.answered_at,
        "closed_at": row.closed_at,
        "created_at": row.created_at,
    }


def escalation(row: Escalation) -> dict:
    """An escalation in full (``row`` from ``escalation.selectors.with_overdue``)."""
    sent = row.sent_items or {}
    return {
        **escalation_summary(row),
        "reason": row.reason,
        "from_level": row.from_level or None,
        "level": row.to_level or None,
        "group": ref(row.group),
        "vendor": ref(row.vendor),
        "contact": row.vendor_contact,
        "channel": row.channel or None,
        "contract": row.contract or None,
        "sent_items": {
            "comments": list(sent.get("comments", [])),
            "attachments": list(sent.get("attachments", [])),
        },
        "notify_customer": row.notify_customer,
        "no_notice_reason": row.no_notice_reason,
        "bug_reference": row.vendor_bug_reference,
        "fix_release": ref(row.fix_release),
        "created_by": person(row.created_by),
    }


def _escalations(rows: Sequence[Ticket], viewer: User | None) -> dict[int, list[dict]]:
    """Each ticket's escalations, read in one query for the whole page; none for customers
    (the escalations are the desk's working notes: vendors, references, reasons)."""
    found: dict[int, list[dict]] = defaultdict(list)
    if viewer is None or not viewer.is_staff or not rows:
        return found
    queryset = Escalation.objects.filter(ticket_id__in=[t.pk for t in rows])
    for row in escalation_selectors.with_overdue(queryset).order_by("created_at", "pk"):
        found[row.ticket_id].append(escalation_summary(row))
    return found


def tickets(rows: Sequence[Ticket], *, viewer: User | None = None) -> list[dict]:
    """Tickets (with ``TICKET_RELATIONS`` selected) as JSON-ready dicts, as ``viewer`` sees
    them (their escalations for staff only)."""
    clocks: dict[int, list[TicketClock]] = defaultdict(list)
    for row in TicketClock.objects.filter(ticket_id__in=[t.pk for t in rows]).order_by(
        "started_at", "pk"
    ):
        clocks[row.ticket_id].append(row)
    escalations = _escalations(rows, viewer)
    return [
        {
            "number": t.number,
            "reference": t.reference,
            "subject": t.subject,
            "description": t.description,
            "status": t.status,
            "channel": t.channel,
            "priority": t.priority,
            "score": t.score,
            "triage": {
                "proposed": _assessment(t.proposed_triage),
                "confirmed": _assessment(t.confirmed_triage),
            },
            "sla": _sla(clocks[t.pk]),
            "organisation": ref(t.organisation),
            "requester": person(t.requester),
            "assignee": person(t.assignee),
            "group": ref(t.group),
            "product": ref(t.product),
            "category": ref(t.category),
            "cc": list(t.cc),
            "steps_to_reproduce": t.steps_to_reproduce,
            "users_affected": t.users_affected,
            "present_since": t.present_since,
            "investigations_done": t.investigations_done,
            "business_impact": t.business_impact,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
            "resolved_at": t.resolved_at,
            "closed_at": t.closed_at,
            "level": t.group.level if t.group_id else None,
            "escalations": escalations[t.pk],
        }
        for t in rows
    ]


def comment(row: Comment) -> dict:
    return {
        "id": row.pk,
        "body": row.body,
        "folded": row.folded,
        "internal": row.internal,
        "channel": row.channel,
        "author": person(row.author),
        "created_at": row.created_at,
        "attachments": [
            {
                "id": a.pk,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": reverse("attachment-download", args=[a.pk]),
            }
            for a in row.attachments.all()
        ],
    }


def organisation(row: Organisation) -> dict:
    return {
        "id": row.pk,
        "name": row.name,
        "email_domains": [d.domain for d in row.email_domains.all()],
        "timezone": row.timezone,
        "language": row.language,
        "country": str(row.country or ""),
        "notes": row.notes,
        "created_at": row.created_at,
    }


def contact(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.full_name,
        "organisation": user.organisation_id,
        "role": user.customer_role,
        "phone": user.phone,
        "language": user.language,
        "timezone": user.timezone,
        "is_active": user.is_active,
    }
