"""A change request's history in words, in the reader's language and time zone: "Stage:
Assessment → Awaiting approval", "Effort estimate: — → 12.5 h", never raw values."""

import re
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import formats
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from servicedesk.changes.models import (
    TEXT_FIELDS,
    ChangeEvent,
    ChangeEventKind,
    Decision,
    Scope,
)
from servicedesk.changes.words import hours_words
from servicedesk.desk.change_forms import STAGE_LABELS
from servicedesk.desk.history import Line
from servicedesk.tickets.references import format_reference

FIELD_NAMES = {
    "title": lambda: _("Title"),
    "description": lambda: _("Description"),
    "product": lambda: _("Product"),
    "scope": lambda: _("Scope"),
    "assignee": lambda: _("Owner"),
    "vendor": lambda: _("Vendor"),
    "chargeable": lambda: _("Chargeable"),
    "effort_hours": lambda: _("Effort estimate"),
    "feasibility": lambda: _("Feasibility"),
    "impact": lambda: _("Impact"),
    "risk": lambda: _("Risk"),
    "resources": lambda: _("Required resources"),
    "scheduled_for": lambda: _("Scheduled for"),
    "test_outcome": lambda: _("Test / UAT outcome"),
    "kpis_met": lambda: _("KPIs met"),
    "lessons_learned": lambda: _("Lessons learned"),
    "stage": lambda: _("Stage"),
}
_EMAIL_AFTER_NAME = re.compile(r"^(.+?) <[^<>]+>$")


def _yes_no(field: str, value) -> str:
    if field == "chargeable":
        return {None: _("not decided"), True: _("yes"), False: _("no")}.get(value, str(value))
    return {None: _("no review yet"), True: _("met"), False: _("not met")}.get(value, str(value))


def _value(value, *, field: str) -> str:
    if field in ("chargeable", "kpis_met"):
        return _yes_no(field, value)
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):  # a related object as it was named then
        name = str(value.get("name", ""))
        found = _EMAIL_AFTER_NAME.match(name)
        return found[1] if found else name
    if field == "effort_hours":
        return hours_words(value)
    if field == "scheduled_for":
        try:
            return formats.date_format(date.fromisoformat(str(value)), "j M Y")
        except ValueError:
            return str(value)
    if field == "stage":
        return str(STAGE_LABELS.get(value, value))
    if field == "scope" and value in Scope.values:
        return str(Scope(value).label)
    if field in TEXT_FIELDS:
        return f"“{Truncator(' '.join(str(value).split())).chars(60)}”"
    return str(value)


def _steps(value) -> str:
    count = len(value) if isinstance(value, list) else 0
    return ngettext("%(count)d step", "%(count)d steps", count) % {"count": count}


def _what(event: ChangeEvent) -> str:
    kind = event.kind
    if kind in (ChangeEventKind.FIELD, ChangeEventKind.STAGE):
        field = event.field or "stage"
        name = FIELD_NAMES.get(field, lambda: field.replace("_", " ").capitalize())()
        return f"{name}: {_value(event.old, field=field)} → {_value(event.new, field=field)}"
    if (
        kind == ChangeEventKind.CONVERTED
        and isinstance(event.new, dict)
        and event.new.get("ticket")
    ):
        reference = format_reference(event.new["ticket"], settings.SERVICEDESK_TICKET_PREFIX)
        return _("Opened from ticket %(reference)s") % {"reference": reference}
    if kind == ChangeEventKind.PLAN:
        return _("Implementation plan: %(old)s → %(new)s") % {
            "old": _steps(event.old),
            "new": _steps(event.new),
        }
    if kind == ChangeEventKind.APPROVAL_REQUESTED:
        round_number = (event.new or {}).get("round") if isinstance(event.new, dict) else None
        return _("Approval requested from the organisation's administrator (round %(round)s)") % {
            "round": round_number or "—"
        }
    if kind == ChangeEventKind.DECIDED:
        decision = (
            str(Decision(event.new).label) if event.new in Decision.values else str(event.new)
        )
        return _("Decision: %(decision)s") % {"decision": decision}
    return str(ChangeEventKind(kind).label) if kind in ChangeEventKind.values else kind


def _href(event: ChangeEvent) -> str:
    new = event.new if isinstance(event.new, dict) else {}
    if event.kind == ChangeEventKind.CONVERTED and new.get("ticket"):
        return reverse("desk:ticket", args=[new["ticket"]])
    return ""


def lines(events) -> list[Line]:
    """``events`` (with their actors read) as the CR page shows them."""
    return [
        Line(
            at=e.at,
            who=e.actor.display_name if e.actor else _("the desk (automation)"),
            what=_what(e),
            reason=e.reason,
            internal=False,
            href=_href(e),
        )
        for e in events
    ]
