"""The ticket page's change request part: the CR the ticket became (a link), or the form
that turns it into one (the view is ``change_page.convert``)."""

from servicedesk.changes.models import ChangeRequest
from servicedesk.desk.change_forms import ConvertForm
from servicedesk.desk.forms import blank_once, labelled_fields
from servicedesk.tickets.models import Ticket


def panel(ticket: Ticket, *, became_one: bool = True) -> dict:
    """What the ticket page shows of change management: one query (none when the ticket is
    known not to have become a change request, ``became_one`` false)."""
    became = None
    if became_one:
        became = (
            ChangeRequest.objects.filter(ticket=ticket).only("number", "stage", "title").first()
        )
    return {
        "ticket_change": became,
        "convert_fields": None
        if became
        else blank_once(
            "desk-convert-fields",
            lambda: labelled_fields(ConvertForm(auto_id="convert-%s"), ("scope", "note")),
        ),
    }
