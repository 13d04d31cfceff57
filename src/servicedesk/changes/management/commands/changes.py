"""``servicedesk changes report --org ORG --month YYYY-MM [--send]``: print one
organisation's Change Request Update report of a month, or record and send it by hand (as the
monthly job does on the 1st; once per organisation and month, like the job)."""

import re
from datetime import date
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from servicedesk.accounts.models import Organisation
from servicedesk.changes import selectors, services
from servicedesk.changes.report import render_report_text

MONTH = re.compile(r"(\d{4})-(\d{2})")


def _organisation(value: str) -> Organisation:
    """The organisation named ``value`` (its id, or its name in any case)."""
    value = value.strip()
    found = Organisation.objects.filter(name__iexact=value).first()
    if found is None and value.isdigit():
        found = Organisation.objects.filter(pk=int(value)).first()
    if found is None:
        raise CommandError(f"No organisation named or numbered {value!r}.")
    return found


def _month(value: str) -> date:
    match = MONTH.fullmatch(value.strip())
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise CommandError(f"Not a month: {value!r} (write it as YYYY-MM, such as 2026-11).")
    return date(int(match[1]), int(match[2]), 1)


class Command(BaseCommand):
    help = "Change requests: print or send an organisation's monthly Change Request Update."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        report = sub.add_parser(
            "report", help="print an organisation's Change Request Update report of a month"
        )
        report.add_argument("--org", required=True, help="the organisation: its name or id")
        report.add_argument("--month", required=True, help="the report's month, as YYYY-MM")
        report.add_argument(
            "--send",
            action="store_true",
            help="record it and email it to the organisation's administrators (once a month)",
        )

    def handle(self, *args, action: str, **options):
        organisation = _organisation(options["org"])
        month = _month(options["month"])
        if options["send"]:
            self._send(organisation, month)
        else:
            self._print(organisation, month)

    def _print(self, organisation: Organisation, month: date) -> None:
        recorded = selectors.report_of(organisation.pk, month)
        numbers = list(recorded.changes) if recorded else None
        rows = selectors.report_rows(organisation.pk, numbers=numbers)
        text = render_report_text(organisation=organisation, month=month, rows=rows, reader=None)
        self.stdout.write(text.rstrip("\n"))
        if recorded:
            self.stdout.write(
                f"\nSent {self._when(recorded.created_at, organisation)} to "
                f"{len(recorded.recipients)} administrator(s); the lines show the change "
                "requests it listed, as they stand now."
            )
        else:
            self.stdout.write(
                f"\nNot sent for {month:%Y-%m}: this is the report as it stands now "
                "(--send records and emails it)."
            )

    def _send(self, organisation: Organisation, month: date) -> None:
        report = services.send_monthly_report(organisation=organisation, month=month)
        if report is None:
            recorded = selectors.report_of(organisation.pk, month)
            self.stdout.write(
                f"The {month:%Y-%m} report of {organisation.name} was already sent "
                f"{self._when(recorded.created_at, organisation)}: nothing sent."
            )
            return
        if not report.changes:
            outcome = "no change request awaits approval: recorded, no email sent"
        elif not report.recipients:
            outcome = "the organisation has no administrator to email: recorded, no email sent"
        else:
            outcome = (
                f"{len(report.changes)} change request(s), emailed to "
                f"{len(report.recipients)} administrator(s)"
            )
        self.stdout.write(f"Sent the {month:%Y-%m} report of {organisation.name}: {outcome}.")

    @staticmethod
    def _when(moment, organisation: Organisation) -> str:
        local = timezone.localtime(moment, timezone=ZoneInfo(organisation.timezone))
        return local.strftime("%Y-%m-%d %H:%M %Z")
