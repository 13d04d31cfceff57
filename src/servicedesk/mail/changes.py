"""The mail of change management (SPEC §7, seed 000), as subscribers of its recorded facts
(``servicedesk.subscribers``):

- a ticket ``converted`` into a change request: the requester is told, in the ticket's
  thread, that it is now CR-n, in the Change Request queue, and on the next Change Request
  Update report to their administrator on the 1st;
- ``change_approval_asked``: each administrator of the CR's organisation is asked to
  decide, with their own signed Approve / Not approve links (``changes.report.decision_link``);
- ``change_urgent``: the administrators are told at once, with the links when the CR awaits
  approval, else that the desk assesses it urgently and the request follows;
- ``change_decided``: the requester (unless they decided themselves) and the CR's owner;
- ``change_report`` (a recorded ``MonthlyReport``): every recipient administrator gets the
  Change Request Update report, HTML and text, with its PDF attached (``changes.report``).

Each mail is written to the outbox in the change's transaction, in the recipient's language
and time zone, once per dedupe key: a fact delivered twice sends nothing twice.
"""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format

from servicedesk.accounts.models import User
from servicedesk.changes import report, selectors, services
from servicedesk.changes.models import ChangeEvent, ChangeRequest, Decision, MonthlyReport
from servicedesk.changes.workflow import Stage
from servicedesk.core import clock
from servicedesk.mail.notifications import (
    _desk_name,
    _language,
    _link_context,
    _mail_in_thread,
    _render,
    _when,
    _zone,
    login_link,
    new_message_id,
)
from servicedesk.mail.outbox import queue_email
from servicedesk.tickets.models import Event


def _change_context(change: ChangeRequest, reader: User) -> dict[str, Any]:
    """What the CR mails show of ``change``, for ``reader`` (in their language, zone)."""
    zone = _zone(reader)
    return {
        "change": change,
        "reader": reader,
        "organisation": change.organisation,
        "requested": _when(change.requested_at, zone),
        "description": report.indented(change.description),
        "zone": str(zone),
        "desk_name": _desk_name(),
        "link_days": settings.SERVICEDESK_LINK_DAYS,
    }


def _decision_links(change: ChangeRequest, administrator: User) -> dict[str, str]:
    return {
        "approve": report.decision_link(change, administrator, approved=True),
        "unapprove": report.decision_link(change, administrator, approved=False),
    }


def _mail_person(person: User, subject: str, body: str, *, reference: str, key: str) -> None:
    queue_email(
        to=[person.email],
        subject=subject,
        body_text=body,
        message_id=new_message_id(reference),
        dedupe_key=key,
    )


# ---- Conversion ---------------------------------------------------------------------------


def _next_report_day(organisation_timezone: str) -> date:
    """The 1st of next month where the organisation is: when its next report goes out."""
    month = services.report_month(clock.now(), organisation_timezone)
    return (month + timedelta(days=32)).replace(day=1)


def mail_conversion(events: Sequence[Event], hints: Mapping[str, Any]) -> None:
    """A ticket became a change request: tell its requester in their language, in the
    ticket's thread, what that means (seed 000, step 5)."""
    for event in events:
        ticket = event.ticket
        change = (
            ChangeRequest.objects.select_related("organisation")
            .filter(number=(event.new or {}).get("number"))
            .first()
        )
        if change is None:
            continue
        requester = ticket.requester
        with translation.override(_language(requester)):
            subject, body = _render(
                "mail/change_converted.txt",
                {
                    **_change_context(change, requester),
                    "ticket": ticket,
                    "next_report": date_format(
                        _next_report_day(change.organisation.timezone), "DATE_FORMAT"
                    ),
                    **_link_context(requester, ticket),
                },
            )
        _mail_in_thread(ticket, subject, body, dedupe_key=f"change-converted:{event.pk}")


# ---- Approval requested, urgent -----------------------------------------------------------


def mail_approval_request(events: Sequence[ChangeEvent], hints: Mapping[str, Any]) -> None:
    """Ask each administrator of the CR's organisation to approve it or not, with their own
    one-click links (the page they open confirms before anything is decided)."""
    for event in events:
        change = event.change
        approval_round = (event.new or {}).get("round", change.approval_round)
        for administrator in services.administrators(change.organisation_id):
            with translation.override(_language(administrator)):
                subject, body = _render(
                    "mail/change_approval.txt",
                    {
                        **_change_context(change, administrator),
                        **_decision_links(change, administrator),
                    },
                )
            _mail_person(
                administrator,
                subject,
                body,
                reference=change.reference,
                key=f"change-approval:{change.pk}:{approval_round}:{administrator.pk}",
            )


def mail_urgent(events: Sequence[ChangeEvent], hints: Mapping[str, Any]) -> None:
    """A CR marked urgent: its organisation's administrators are emailed at once, asking
    for their approval (with the links when it already awaits it)."""
    for event in events:
        change = event.change
        awaiting = change.stage == Stage.AWAITING_APPROVAL
        for administrator in services.administrators(change.organisation_id):
            with translation.override(_language(administrator)):
                context = {
                    **_change_context(change, administrator),
                    "marked_by": event.actor.display_name if event.actor else _desk_name(),
                    "awaiting": awaiting,
                }
                if awaiting:
                    context.update(_decision_links(change, administrator))
                subject, body = _render("mail/change_urgent.txt", context)
            _mail_person(
                administrator,
                subject,
                body,
                reference=change.reference,
                key=f"change-urgent:{event.pk}:{administrator.pk}",
            )


# ---- Decision -----------------------------------------------------------------------------


def mail_decision(events: Sequence[ChangeEvent], hints: Mapping[str, Any]) -> None:
    """Tell the requester (unless they decided it themselves) and the CR's owner (staff)
    what the administrator decided."""
    for event in events:
        change = event.change
        people = [change.requester, change.assignee]
        for person in dict.fromkeys(p for p in people if p is not None and p.is_active):
            if person.pk == event.actor_id:
                continue  # they just decided it, on a page that said so
            zone = _zone(person)
            with translation.override(_language(person)):
                subject, body = _render(
                    "mail/change_decided.txt",
                    {
                        **_change_context(change, person),
                        "approved": event.new == Decision.APPROVED,
                        "decided_by": event.actor.display_name if event.actor else "",
                        "decided": _when(event.at, zone),
                        "comment": event.reason,
                        "login_link": login_link(person, change.ticket),
                    },
                )
            _mail_person(
                person,
                subject,
                body,
                reference=change.reference,
                key=f"change-decided:{event.pk}:{person.pk}",
            )


# ---- The monthly report -------------------------------------------------------------------


def report_filename(month: date) -> str:
    return f"change-request-update-{month:%Y-%m}.pdf"


def mail_report(reports: Sequence[MonthlyReport], hints: Mapping[str, Any]) -> None:
    """Send each recipient administrator the Change Request Update report of the month:
    HTML and text, with their own decision links, and the report as a PDF attachment."""
    for monthly in reports:
        organisation = monthly.organisation
        rows = selectors.report_rows(organisation.pk, numbers=list(monthly.changes))
        recipients = User.objects.filter(pk__in=monthly.recipients, is_active=True).order_by("pk")
        for administrator in recipients:
            _mail_report(monthly, rows, administrator)


def _mail_report(monthly: MonthlyReport, rows: list[ChangeRequest], reader: User) -> None:
    organisation = monthly.organisation
    arguments = {"organisation": organisation, "month": monthly.month, "rows": rows}
    with translation.override(_language(reader)):
        context = {
            **report.report_context(**arguments, reader=reader, decision_links=True),
            "desk_name": _desk_name(),
            "link_days": settings.SERVICEDESK_LINK_DAYS,
        }
        subject, body = _render(
            "mail/change_report.txt",
            {
                **context,
                "report": report.render_report_text(
                    **arguments, reader=reader, decision_links=True
                ),
            },
        )
        html = render_to_string("mail/change_report.html", context)
        pdf = report.render_report_pdf(**arguments, reader=reader)
    queue_email(
        to=[reader.email],
        subject=subject,
        body_text=body,
        body_html=html,
        message_id=new_message_id(f"change-report.{monthly.pk}"),
        dedupe_key=f"change-report:{monthly.pk}:{reader.pk}",
        files=[(report_filename(monthly.month), pdf, "application/pdf")],
    )
