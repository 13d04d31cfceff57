"""The Change Request Update report in the portal (SPEC §7): ``/portal/changes/report/``.

Without a month, the report as it stands now: every CR of the reader's organisation not yet
approved, oldest request first, with its decision buttons for an administrator. With
``?month=YYYY-MM``, the report recorded (and mailed) that month: the CRs it listed, as they
are now. The organisation's administrators and designated loggers have the page; end users
(and staff, who have the desk) get 404. The rows are drawn by ``changes.report`` (the mail's
and the PDF's drawing: the same fields and words), inside the portal's own layout.
"""

import re
from datetime import date

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from servicedesk.changes import selectors, services
from servicedesk.changes.models import MonthlyReport
from servicedesk.changes.report import Line, report_context
from servicedesk.changes.workflow import Stage
from servicedesk.portal.changes import may_see_report
from servicedesk.portal.views import customer_required

MONTH = re.compile(r"(\d{4})-(\d{2})")


def _month(text: str) -> date | None:
    """``2026-11`` as the 1st of that month; None for anything else."""
    match = MONTH.fullmatch(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return None


def _row(line: Line, *, deciding: bool) -> dict:
    """One line of the report as the mail draws it (``changes.report``), and what the reader
    may do about it here."""
    stage = line.change.stage
    return {
        "line": line,
        "change": line.change,
        "can_decide": deciding and stage == Stage.AWAITING_APPROVAL,
        "assessing": stage in (Stage.REQUESTED, Stage.ASSESSMENT),
    }


@require_GET
@customer_required
def report(request):
    user = request.user
    if not may_see_report(user):
        raise Http404
    organisation_id = user.organisation_id
    months = list(
        MonthlyReport.objects.filter(organisation_id=organisation_id)
        .order_by("-month")
        .values_list("month", flat=True)
    )
    context = {"months": months, "section": "changes", "chosen": ""}
    asked = request.GET.get("month", "").strip()
    month = timezone.localdate().replace(day=1)
    if asked:
        month = _month(asked)
        context["chosen"] = asked
        if month is None:
            context["bad_month"] = True
            return render(request, "portal/change_report.html", context, status=400)
        recorded = selectors.report_of(organisation_id, month)
        context.update(month=month, recorded=recorded)
        if recorded is None:
            return render(request, "portal/change_report.html", context, status=404)
        changes = selectors.report_rows(organisation_id, recorded.changes)
    else:
        changes = selectors.report_rows(organisation_id)
    deciding = services.is_administrator_of(user, organisation_id)
    drawn = report_context(organisation=user.organisation, month=month, rows=changes, reader=user)
    context["rows"] = [_row(line, deciding=deciding) for line in drawn["lines"]]
    context["deciding"] = deciding
    return render(request, "portal/change_report.html", context)


urlpatterns = [path("changes/report/", report, name="change-report")]
