"""A ticket's history in words, in the reader's language and time zone: "Group: First line
→ CRM specialists", "Status: Open → Waiting on customer", never raw values."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from servicedesk.core import labels
from servicedesk.tickets.models import Event, EventKind, StatusChoices
from servicedesk.tickets.references import format_reference
from servicedesk.tickets.selectors import priority_labels

FIELD_NAMES = {
    "status": lambda: _("Status"),
    "assignee": lambda: _("Assignee"),
    "group": lambda: _("Group"),
    "priority": lambda: _("Priority"),
    "subject": lambda: _("Subject"),
    "description": lambda: _("Description"),
    "product": lambda: _("Product"),
    "category": lambda: _("Category"),
    "organisation": lambda: _("Organisation"),
    "next_update_due": lambda: _("Next update due"),
}


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str
    what: str
    reason: str
    internal: bool
    href: str = ""  # where the line's subject is (a CR the ticket became), if anywhere


def when(value) -> str:
    """A moment as the reader reads it: "30 Nov 13:30" in their zone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return formats.date_format(timezone.localtime(value), "j M H:i")


def _value(value, *, field: str) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        if "due" in value:  # a clock's due time (a promised next update)
            return when(value["due"]) if value["due"] else "—"
        if "name" in value:
            return labels.shown(str(value["name"]))
        if "ticket" in value:
            return format_reference(value["ticket"], settings.SERVICEDESK_TICKET_PREFIX)
        return ", ".join(
            f"{key}: {_value(item, field=key)}"
            for key, item in value.items()
            if key not in {"id", "comment", "clock"}
        )
    if field == "status" and value in StatusChoices.values:
        return str(StatusChoices(value).label)
    if field == "priority":
        return labels.shown(priority_labels().get(str(value), str(value)))
    if field == "due" or field.endswith("_at"):
        return when(value)
    return str(value)


def _clock_label(kind: str) -> str:
    from servicedesk.sla.models import ClockKind

    return str(ClockKind(kind).label) if kind in ClockKind.values else kind.replace("_", " ")


def _what(event: Event) -> str:
    kind = event.kind
    if kind in (EventKind.STATUS, EventKind.ASSIGNEE, EventKind.GROUP, EventKind.FIELD):
        name = FIELD_NAMES.get(event.field, lambda: event.field.replace("_", " ").capitalize())()
        return f"{name}: {_value(event.old, field=event.field)} → {_value(event.new, field=event.field)}"
    if kind == EventKind.TRIAGE:
        new = event.new or {}
        old = event.old or {}
        return _("Triage: priority %(old)s → %(new)s (urgency %(urgency)s, impact %(impact)s)") % {
            "old": _value(old.get("priority"), field="priority"),
            "new": _value(new.get("priority"), field="priority"),
            "urgency": new.get("urgency", "—"),
            "impact": new.get("impact", "—"),
        }
    if kind in (EventKind.SLA_WARNING, EventKind.SLA_BREACH, EventKind.SLA_MET):
        new = event.new if isinstance(event.new, dict) else {}
        clock = new.get("kind") or event.field  # the clock's kind ("first_response", …)
        return f"{EventKind(kind).label}: {_clock_label(clock)}" + (
            " — " + _("due %(time)s") % {"time": when(new["due"])} if new.get("due") else ""
        )
    if kind in (EventKind.LINK, EventKind.UNLINK):
        return f"{EventKind(kind).label}: {_value(event.new or event.old, field='link')}"
    if kind == EventKind.ATTACHMENT:
        return f"{EventKind(kind).label}: {(event.new or {}).get('filename', '')}"
    if kind == EventKind.CONVERTED and isinstance(event.new, dict) and "reference" in event.new:
        return _("Converted to change request %(reference)s") % {
            "reference": event.new["reference"]
        }
    return str(EventKind(kind).label) if kind in EventKind.values else kind


def _href(event: Event) -> str:
    if (
        event.kind == EventKind.CONVERTED
        and isinstance(event.new, dict)
        and event.new.get("number")
    ):
        return reverse("desk:change", args=[event.new["number"]])
    return ""


def lines(events) -> list[Line]:
    return [
        Line(
            at=e.at,
            who=e.actor.display_name if e.actor else _("the desk (automation)"),
            what=_what(e),
            reason=e.reason,
            internal=e.internal,
            href=_href(e),
        )
        for e in events
    ]
