"""/api/v1/imports: tickets from another desk, with their history (administrators)."""

from django.conf import settings
from django.db import transaction
from ninja import Router

from servicedesk.api.common import CHANGE_ERRORS, caller, require_admin
from servicedesk.api.schemas import ImportResult, ImportTicket
from servicedesk.search import index as search_index
from servicedesk.tickets import imports
from servicedesk.tickets.references import format_reference

router = Router()


@router.post("/tickets", response={200: ImportResult, **CHANGE_ERRORS}, summary="Import tickets")
def import_tickets(request, data: list[ImportTicket]):
    """Up to 5,000 tickets per call, each once: a ticket whose ``external_id`` was imported
    before is skipped (``created``: false) and keeps its number. All or nothing per call."""
    user = caller(request)
    require_admin(user)
    items = [
        imports.Item(
            external_id=t.external_id,
            subject=t.subject,
            description=t.description,
            requester_email=t.requester_email,
            requester_name=t.requester_name,
            organisation_id=t.organisation,
            status=str(t.status),
            urgency=t.urgency,
            impact=t.impact,
            created_at=t.created_at,
            updated_at=t.updated_at,
            thread=tuple(
                imports.Reply(r.author_email, r.body, r.internal, r.created_at) for r in t.thread
            ),
            status_history=tuple(
                imports.StatusChange(str(c.status), c.at) for c in t.status_history
            ),
        )
        for t in data
    ]
    with transaction.atomic():  # the import publishes nothing: index what it loaded
        result = imports.import_tickets(items, by=user)
        search_index.reindex_numbers(number for _, number in result.created)
    prefix = settings.SERVICEDESK_TICKET_PREFIX
    return {
        "created": len(result.created),
        "skipped": len(result.skipped),
        "tickets": [
            {
                "external_id": e,
                "number": n,
                "reference": format_reference(n, prefix),
                "created": created,
            }
            for pairs, created in ((result.created, True), (result.skipped, False))
            for e, n in pairs
        ],
    }
