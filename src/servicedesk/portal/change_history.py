"""A change request's history as its customer reads it: in words, in their language and
time zone ("Stage: Assessment → Awaiting approval", "Not approved", "Marked urgent").

Customers see what they see on the CR's page, and no more: the desk's internal assessment
notes (feasibility, required resources, lessons learned), who owns it, and the reasons staff
type when they move a stage stay out; a text field shown on the page is said to have been
updated, without its words (the page shows them). The stage move a decision makes is told
once, as the decision, with the administrator's comment.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _

from servicedesk.changes import workflow
from servicedesk.changes.models import ChangeEvent, ChangeEventKind, Decision
from servicedesk.changes.words import chargeable_words, hours_words
from servicedesk.tickets.references import format_reference

# The fields of the CR's record a customer sees, by name; their changes are told.
SHOWN_FIELDS = {
    "title": lambda: _("Title"),
    "description": lambda: _("Description"),
    "product": lambda: _("Product"),
    "chargeable": lambda: _("Chargeable"),
    "effort_hours": lambda: _("Effort estimate"),
    "scheduled_for": lambda: _("Scheduled for"),
    "impact": lambda: _("Impact"),
    "risk": lambda: _("Risk"),
    "test_outcome": lambda: _("Test / UAT outcome"),
    "kpis_met": lambda: _("KPIs met"),
}
# Long texts: "updated", not their words before and after.
TEXTS = {"description", "impact", "risk", "test_outcome"}


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str
    what: str
    comment: str = ""


def _value(field: str, value) -> str:
    if field == "chargeable":
        return chargeable_words(value)
    if field == "effort_hours":
        return hours_words(value)
    if field == "kpis_met":
        return "—" if value is None else (_("Yes") if value else _("No"))
    if value is None or value == "":
        return "—"
    if field == "scheduled_for":
        try:
            return formats.date_format(date.fromisoformat(str(value)), "j M Y")
        except ValueError:
            return str(value)
    if isinstance(value, dict):  # a related object as the history keeps it
        return str(value.get("name", "—"))
    return str(value)


def _stage(value) -> str:
    try:
        return _(workflow.LABELS[workflow.Stage(value)])
    except ValueError:
        return str(value)


def _by_decision(event: ChangeEvent) -> bool:
    """A stage move the administrator's decision made: told as the decision instead."""
    try:
        move = workflow.TRANSITIONS.get((workflow.Stage(event.old), workflow.Stage(event.new)))
    except ValueError:
        return False
    return move is not None and move.decision


def _what(event: ChangeEvent) -> str | None:
    """The event in words, or None when it is not for the customer."""
    kind = event.kind
    if kind == ChangeEventKind.CREATED:
        return _("Change request opened")
    if kind == ChangeEventKind.CONVERTED:
        number = (event.new or {}).get("ticket")
        if not number:
            return _("Change request opened")
        ticket = format_reference(number, settings.SERVICEDESK_TICKET_PREFIX)
        return _("Opened from ticket %(reference)s") % {"reference": ticket}
    if kind == ChangeEventKind.STAGE:
        if _by_decision(event):
            return None
        return _("Stage: %(old)s → %(new)s") % {"old": _stage(event.old), "new": _stage(event.new)}
    if kind == ChangeEventKind.DECIDED:
        return _("Approved") if event.new == Decision.APPROVED else _("Not approved")
    if kind == ChangeEventKind.URGENT:
        return _("Marked urgent")
    if kind == ChangeEventKind.PLAN:
        return _("Implementation plan updated")
    if kind == ChangeEventKind.FIELD and event.field in SHOWN_FIELDS:
        name = SHOWN_FIELDS[event.field]()
        if event.field in TEXTS:
            return _("%(field)s updated") % {"field": name}
        old, new = _value(event.field, event.old), _value(event.field, event.new)
        return f"{name}: {old} → {new}"
    return None  # the request for approval (told by its stage move), internal fields


def lines(events) -> list[Line]:
    """``events`` (a CR's, oldest first, actors read) as the customer's history."""
    told = []
    for event in events:
        what = _what(event)
        if what is None:
            continue
        who = event.actor.display_name if event.actor else _("the desk (automation)")
        comment = event.reason if event.kind == ChangeEventKind.DECIDED else ""
        told.append(Line(at=event.at, who=who, what=what, comment=comment))
    return told
