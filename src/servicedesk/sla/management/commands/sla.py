"""``servicedesk sla sweep`` and ``servicedesk sla explain NUMBER``."""

import json
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from servicedesk.sla import selectors, services
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.references import format_reference, parse_reference


def _local(value: str | None, zone: str | None) -> str:
    if not value:
        return "—"
    instant = parse_datetime(value)
    return instant.astimezone(ZoneInfo(zone or "UTC")).strftime("%a %Y-%m-%d %H:%M %Z")


def _outcome(clock: dict, zone: str | None) -> str:
    """What became of a clock, in words: a target met late says so, and when."""
    state, breached = clock["state"], clock["breached_at"]
    if state == "met":
        return f"met {_local(clock['met_at'], zone)}"
    if state == "met_late":
        after = f"breach recorded {_local(breached, zone)}" if breached else "after the due time"
        return f"met late {_local(clock['met_at'], zone)} ({after})"
    outcome = "stopped" if clock["stopped"] else "running"
    if breached:
        return f"{outcome}, breached {_local(breached, zone)}"
    if state in ("breached", "warning"):  # its moment passed; the sweep has not run since
        return f"{outcome}, {state}"
    return outcome


class Command(BaseCommand):
    help = "Service-level clocks: run one sweep, or explain a ticket's due times."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sweep", help="record the warnings and breaches that are due, once each")
        sub.add_parser(
            "backfill", help="start clocks for active tickets that have none (bulk-loaded)"
        )
        explain = sub.add_parser("explain", help="show how each due time of a ticket was reached")
        explain.add_argument("number", help="the ticket: 10042, SD-10042 or [SD#10042]")
        explain.add_argument("--json", action="store_true", help="print the explanation as JSON")

    def handle(self, *args, action: str, **options):
        prefix = settings.SERVICEDESK_TICKET_PREFIX
        if action == "sweep":
            result = services.sweep()
            for number, kind in result.breaches:
                self.stdout.write(f"breach  {format_reference(number, prefix)} {kind}")
            for number, kind in result.warnings:
                self.stdout.write(f"warning {format_reference(number, prefix)} {kind}")
            self.stdout.write(
                f"{len(result.breaches)} breaches, {len(result.warnings)} warnings recorded"
            )
            return
        if action == "backfill":
            self.stdout.write(f"{services.backfill_clocks()} clocks started")
            return
        number = parse_reference(options["number"], prefix)
        if number is None:
            raise CommandError(
                f"Not a ticket reference: {options['number']!r} (10042 or {prefix}-10042)."
            )
        ticket = Ticket.objects.filter(number=number).first()
        if ticket is None:
            raise CommandError(f"No ticket numbered {number}.")
        explanation = selectors.explain(ticket)
        if options["json"]:
            self.stdout.write(json.dumps(explanation, indent=2))
            return
        self._print(ticket, explanation)

    def _print(self, ticket, explanation):
        w = self.stdout.write
        w(f"{ticket.reference} {ticket.subject}")
        w(f"priority {ticket.priority}, status {ticket.status}")
        if not explanation:
            w("No SLA clock runs on this ticket (no policy target for its priority).")
        for clock in explanation:
            zone = clock["timezone"]
            w("")
            w(
                f"{clock['kind']}: {clock['target']} of business time, policy {clock['policy']!r}, "
                f"calendar {clock['calendar']!r} ({zone})"
            )
            w(f"  started  {_local(clock['started_at'], zone)}")
            for piece in clock["counted"]:
                w(
                    f"  counted  {_local(piece['start'], zone)} → {_local(piece['end'], zone)}"
                    f"  +{piece['counted']} = {piece['total']}"
                )
            for day in clock["skipped_dates"]:
                w(f"  skipped  {day} (holiday or closure)")
            for pause in clock["pauses"]:
                span = f"{_local(pause['start'], zone)} → {_local(pause['end'], zone)}"
                w(f"  paused   {span} (added back)")
            for change in clock["retriage"]:
                w(
                    f"  re-triaged {_local(change['at'], zone)}: {change['from']} → {change['to']}"
                    " (recomputed from the original start)"
                )
            w(
                f"  due      {_local(clock['due_at'], zone)}"
                + ("  (paused)" if not clock["due_at"] else "")
            )
            w(f"  outcome  {_outcome(clock, zone)}")
            for past in clock["recorded"]:
                if past["due"] != clock["due_at"]:  # judged against a due time since changed
                    w(
                        f"  earlier  {past['what']} recorded {_local(past['at'], zone)}"
                        f" against the due time then, {_local(past['due'], zone)}"
                    )
