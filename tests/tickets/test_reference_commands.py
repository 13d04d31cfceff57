"""The command line reads a ticket reference in every form people write, refuses what names
no ticket (never picking the digits out of it), and names tickets as ``SD-10001``."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from servicedesk.tickets.models import Ticket
from tests.factories import make_ticket

MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("form", ["{n}", "SD-{n}", "sd-{n}", "[SD#{n}]", "SD#{n}", " #{n} "])
def test_ticket_status_takes_every_form(ticket_a, alice, capsys, form):
    name = form.format(n=ticket_a.number)

    call_command("ticket", "status", name, "in_progress", "--by", alice.email)

    assert Ticket.objects.get(pk=ticket_a.pk).status == "in_progress"
    assert f"SD-{ticket_a.number} is now In progress." in capsys.readouterr().out


@pytest.mark.parametrize("name", ["HD-{n}", "XX-1", "SD-abc", "{n}x", "SD-{n}-2", "0", ""])
def test_ticket_status_refuses_what_names_no_ticket(ticket_a, alice, name):
    with pytest.raises(CommandError, match="Not a ticket reference"):
        call_command(
            "ticket", "status", name.format(n=ticket_a.number), "closed", "--by", alice.email
        )

    assert Ticket.objects.get(pk=ticket_a.pk).status == "new"


def test_the_configured_prefix(settings, ticket_a, alice, capsys):
    settings.SERVICEDESK_TICKET_PREFIX = "HD"

    call_command("ticket", "status", f"HD-{ticket_a.number}", "open", "--by", alice.email)
    assert f"HD-{ticket_a.number} is now Open." in capsys.readouterr().out
    with pytest.raises(CommandError, match="Not a ticket reference"):
        call_command("ticket", "status", f"SD-{ticket_a.number}", "closed", "--by", alice.email)


@pytest.mark.parametrize("form", ["{n}", "SD-{n}", "[SD#{n}]"])
def test_sla_explain_takes_every_form(ticket_a, capsys, form):
    call_command("sla", "explain", form.format(n=ticket_a.number), "--json")
    assert json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", ["HD-{n}", "SD-abc", "{n}{n}{n}{n}{n}"])
def test_sla_explain_refuses_what_names_no_ticket(ticket_a, name):
    with pytest.raises(CommandError, match="Not a ticket reference"):
        call_command("sla", "explain", name.format(n=ticket_a.number))


def test_sla_sweep_names_tickets_with_the_prefix(settings, bob, capsys):
    settings.SERVICEDESK_TICKET_PREFIX = "HD"
    with time_machine.travel(MONDAY_9, tick=False):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)  # first response due 13:00

    with time_machine.travel(MONDAY_9 + timedelta(hours=5), tick=False):
        call_command("sla", "sweep")

    assert f"breach  HD-{ticket.number} first_response" in capsys.readouterr().out
