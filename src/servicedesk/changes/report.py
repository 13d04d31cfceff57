"""The Change Request Update report (SPEC §7, seed 000), drawn in one place for every way it
is read: the monthly email (HTML and text), its PDF attachment (WeasyPrint), the portal's
page and ``servicedesk changes report``.

It lists an organisation's change requests not yet approved (``selectors.report_rows``): the
number, when and by whom each was requested, the description, whether it is chargeable, the
effort estimate, a link to its portal page, and, in an administrator's own email, the signed
one-click Approve / Not approve links of the ones awaiting approval. The PDF never carries
those links: a PDF is printed, filed and forwarded, and the links act in the
administrator's name.

The words are in the active language (callers wrap a reader's mail in
``translation.override``); the times are in the reader's time zone, else the
organisation's. Nothing here imports a channel: the pages are named by their URL names.
"""

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString

from servicedesk.accounts.models import Organisation, User
from servicedesk.changes import workflow
from servicedesk.changes.links import approval_token
from servicedesk.changes.models import ChangeRequest
from servicedesk.core import links


def decision_link(change: ChangeRequest, administrator: User, *, approved: bool) -> str:
    """The absolute address of the page that confirms ``administrator``'s decision (approve
    or not) on ``change``, signed for the CR's current approval round; for emails."""
    token = approval_token(change, administrator, approved=approved)
    return links.absolute(reverse("portal:change-decide", args=[token]))


def portal_link(change: ChangeRequest) -> str:
    """The absolute address of ``change``'s page in the portal (its readers sign in)."""
    return links.absolute(reverse("portal:change", args=[change.number]))


@dataclass(frozen=True)
class Line:
    """One change request as the report shows it, in the reader's language and time zone."""

    change: ChangeRequest
    requested: str  # when, formatted in the reader's zone
    stage: str
    page: str
    description_text: str = ""  # wrapped and indented, for the plain text
    approve: str = ""  # the signed links: an administrator's email, awaiting approval only
    unapprove: str = ""


def indented(text: str, *, width: int = 76, margin: str = "    ") -> str:
    """``text`` wrapped to ``width`` and indented by ``margin``, for plain-text mail."""
    lines = []
    for line in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(line, width - len(margin)) or [""])
    return "\n".join(f"{margin}{line}".rstrip() for line in lines)


def _zone(organisation: Organisation, reader: User | None) -> ZoneInfo:
    for name in (reader.timezone if reader else "", organisation.timezone, settings.TIME_ZONE):
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError):  # "" or a name the system does not know
            continue
    return ZoneInfo("UTC")


def report_context(
    *,
    organisation: Organisation,
    month: date,
    rows: Sequence[ChangeRequest],
    reader: User | None,
    decision_links: bool = False,
) -> dict[str, Any]:
    """What the report's templates show. ``decision_links``: add ``reader``'s signed
    Approve / Not approve links to the CRs awaiting approval (their own email only)."""
    zone = _zone(organisation, reader)
    lines = []
    for change in rows:
        approve = unapprove = ""
        if decision_links and reader and change.stage == workflow.Stage.AWAITING_APPROVAL:
            approve = decision_link(change, reader, approved=True)
            unapprove = decision_link(change, reader, approved=False)
        lines.append(
            Line(
                change=change,
                requested=date_format(
                    timezone.localtime(change.requested_at, zone), "DATETIME_FORMAT"
                ),
                stage=change.get_stage_display(),
                page=portal_link(change),
                description_text=indented(change.description),
                approve=approve,
                unapprove=unapprove,
            )
        )
    return {
        "organisation": organisation,
        "month": date_format(month, "YEAR_MONTH_FORMAT"),
        "lines": lines,
        "decidable": any(line.approve for line in lines),
        "zone": str(zone),
        "reader": reader,
    }


def render_report_html(
    *,
    organisation: Organisation,
    month: date,
    rows: Sequence[ChangeRequest],
    reader: User | None,
    decision_links: bool = False,
    document: bool = True,
) -> SafeString:
    """The report as HTML: a whole document (the PDF's) or, with ``document=False``, the
    section a page shows inside its own layout (no style of its own, no script)."""
    context = report_context(
        organisation=organisation,
        month=month,
        rows=rows,
        reader=reader,
        decision_links=decision_links,
    )
    template = "changes/report.html" if document else "changes/_report.html"
    return SafeString(render_to_string(template, context))


def render_report_text(
    *,
    organisation: Organisation,
    month: date,
    rows: Sequence[ChangeRequest],
    reader: User | None,
    decision_links: bool = False,
) -> str:
    """The report as plain text (the email's text part, the console command's output)."""
    context = report_context(
        organisation=organisation,
        month=month,
        rows=rows,
        reader=reader,
        decision_links=decision_links,
    )
    return render_to_string("changes/report.txt", context).strip("\n")


def render_report_pdf(
    *,
    organisation: Organisation,
    month: date,
    rows: Sequence[ChangeRequest],
    reader: User | None,
) -> bytes:
    """The report as a PDF (WeasyPrint), without the signed decision links."""
    html = render_report_html(organisation=organisation, month=month, rows=rows, reader=reader)
    return pdf_from_html(html)


def pdf_from_html(html: str) -> bytes:
    """A PDF of our own ``html``. Nothing is fetched while drawing it (no protocol is
    allowed): the report refers to no image or stylesheet, and text typed by customers must
    not make the server open addresses."""
    import weasyprint  # loaded on first use: its start-up is not every process's business

    fetcher = weasyprint.URLFetcher(allowed_protocols=())
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
