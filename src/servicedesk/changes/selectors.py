"""Reads of change requests: one CR as a user may see it, the lists (the desk's CR queue,
the portal's), the monthly report's rows, and the CR reports (by stage, approval lead time)."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db.models import Count, QuerySet

from servicedesk.changes import workflow
from servicedesk.changes.models import ChangeEvent, ChangeRequest, MonthlyReport
from servicedesk.core.errors import NotFound, gettext_noop
from servicedesk.tickets.references import parse_reference

_RELATED = ("organisation", "requester", "assignee", "vendor", "product", "ticket", "decided_by")


def visible(user) -> QuerySet:
    """The CRs ``user`` may see, with what a list shows read in the same query."""
    return ChangeRequest.objects.visible_to(user).select_related(*_RELATED)


def get_change(user, number: int) -> ChangeRequest:
    """CR ``number`` as ``user`` may see it; ``NotFound`` if it does not exist or is not theirs."""
    found = visible(user).filter(number=number).first()
    if found is None:
        raise NotFound(gettext_noop("No such change request."))
    return found


def find_change(user, text: str) -> ChangeRequest:
    """The CR a person names (``1042``, ``CR-1042``) as ``user`` may see it; ``NotFound``
    for anything else, whether it names no CR or one they may not see."""
    number = parse_reference(text, settings.SERVICEDESK_CHANGE_PREFIX)
    if number is None:
        raise NotFound(gettext_noop("No such change request."))
    return get_change(user, number)


def history(change: ChangeRequest) -> QuerySet:
    return ChangeEvent.objects.filter(change=change).select_related("actor").order_by("at", "pk")


def report_rows(organisation_id: int, numbers: list[int] | None = None) -> list[ChangeRequest]:
    """The CRs a Change Request Update report lists: ``numbers`` (a recorded report's) or the
    organisation's CRs not yet approved now, oldest request first."""
    rows = ChangeRequest.objects.filter(organisation_id=organisation_id).select_related(
        "requester", "ticket", "organisation"
    )
    rows = rows.filter(number__in=numbers) if numbers is not None else rows.not_yet_approved()
    return list(rows.order_by("requested_at", "number"))


def report_of(organisation_id: int, month: date) -> MonthlyReport | None:
    return MonthlyReport.objects.filter(organisation_id=organisation_id, month=month).first()


def count_by_stage(rows: QuerySet | None = None) -> dict[str, int]:
    """How many CRs (all, or ``rows``) are in each stage, every stage named."""
    rows = ChangeRequest.objects.all() if rows is None else rows
    counts = dict(rows.order_by().values_list("stage").annotate(n=Count("pk")))
    return {stage.value: counts.get(stage.value, 0) for stage in workflow.Stage}


@dataclass(frozen=True)
class LeadTime:
    decisions: int
    median_hours: float | None
    longest_hours: float | None


def approval_lead_time(rows: QuerySet | None = None, *, since: datetime | None = None) -> LeadTime:
    """From the request for approval to the administrator's decision, over decided CRs."""
    rows = ChangeRequest.objects.all() if rows is None else rows
    rows = rows.filter(decided_at__isnull=False, approval_requested_at__isnull=False)
    if since is not None:
        rows = rows.filter(decided_at__gte=since)
    hours = [
        (decided - asked).total_seconds() / 3600
        for asked, decided in rows.values_list("approval_requested_at", "decided_at")
    ]
    if not hours:
        return LeadTime(0, None, None)
    return LeadTime(len(hours), round(statistics.median(hours), 1), round(max(hours), 1))
