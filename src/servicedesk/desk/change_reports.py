"""The desk's change request reports: how many CRs are in each stage (a table with bars, no
script) and how long administrators take to decide (median, longest, how many decisions),
for one organisation or all, over a period in the reader's time zone."""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from servicedesk.changes import selectors
from servicedesk.changes.models import ChangeRequest
from servicedesk.desk.change_forms import STAGE_LABELS, ReportFilterForm
from servicedesk.desk.views import staff_required

BAR_STEP = 5  # bar widths in steps of 5 %: one CSS class each (no style attributes: CSP)


@dataclass(frozen=True)
class Bar:
    stage: str
    label: str
    count: int
    width: int  # percent of the longest bar, a multiple of BAR_STEP


def bars(counts: dict[str, int]) -> list[Bar]:
    """One bar per stage, the longest 100 %; a stage with any CR shows at least one step."""
    most = max(counts.values(), default=0)
    rows = []
    for stage, count in counts.items():
        width = 0
        if count and most:
            width = max(BAR_STEP, math.ceil(count * 100 / most / BAR_STEP) * BAR_STEP)
        rows.append(Bar(stage, str(STAGE_LABELS[stage]), count, width))
    return rows


def _local_midnight(day: date) -> datetime:
    """The start of ``day`` in the reader's time zone (the middleware activates it)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


@require_GET
@staff_required
def reports(request):
    form = ReportFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = ChangeRequest.objects.visible_to(request.user)
    if data.get("organisation") is not None:
        rows = rows.filter(organisation=data["organisation"])
    start = _local_midnight(data["since"]) if data.get("since") else None
    end = _local_midnight(data["until"] + timedelta(days=1)) if data.get("until") else None
    requested, decided = rows, rows
    if start is not None:
        requested = requested.filter(requested_at__gte=start)
    if end is not None:
        requested = requested.filter(requested_at__lt=end)
        decided = decided.filter(decided_at__lt=end)
    counts = selectors.count_by_stage(requested)
    context = {
        "section": "changes",
        "form": form,
        "bars": bars(counts),
        "total": sum(counts.values()),
        "lead": selectors.approval_lead_time(decided, since=start),
        "filtered": bool(data.get("organisation") or start or end),
    }
    return render(request, "desk/changes/reports.html", context)
