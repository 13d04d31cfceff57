"""``sla.explain`` in the ticket: the breakdown ``servicedesk sla explain --json`` prints, on
the single read only (lists and change answers leave it null, to keep their query counts)."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from servicedesk.tickets import services
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def _values(data):
    """JSON with its instants read as instants (the API writes UTC as ``Z`` and to the
    millisecond, the command ``+00:00``), so the two can be compared as data."""
    if isinstance(data, dict):
        return {k: _values(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_values(v) for v in data]
    if isinstance(data, str) and len(data) >= 10 and data[4:5] == "-" and data[7:8] == "-":
        try:
            return datetime.fromisoformat(data) if "T" in data else date.fromisoformat(data)
        except ValueError:
            return data
    return data


@pytest.fixture
def worked_ticket(bob, alice):
    """Filed Friday afternoon (a weekend skipped), re-triaged, paused while waiting on bob."""
    friday = MONDAY_9 - 3 * 24 * H + 6 * H
    with time_machine.travel(friday, tick=False):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
    with time_machine.travel(friday + 30 * timedelta(minutes=1), tick=False):
        services.confirm_triage(ticket=ticket, urgency=2, impact=2, by=alice)
    with time_machine.travel(MONDAY_9, tick=False):
        services.change_status(ticket=ticket, to="waiting_on_customer", by=alice)
    with time_machine.travel(MONDAY_9 + 2 * H, tick=False):
        services.add_comment(ticket=ticket, author=bob, body="Here is the log.")
    return ticket


def test_the_single_read_explains_as_the_command_does(api_alice, worked_ticket, capsys):
    with time_machine.travel(MONDAY_9 + 3 * H, tick=False):
        response = api_alice.get(f"/tickets/{worked_ticket.reference}")
        call_command("sla", "explain", worked_ticket.reference, "--json")
    printed = json.loads(capsys.readouterr().out)

    assert response.status_code == 200, response.content
    explained = response.json()["sla"]["explain"]
    assert printed, "the ticket has clocks to explain"
    assert _values(explained) == _values(printed)
    first = next(c for c in explained if c["kind"] == "first_response")
    assert first["retriage"] and first["pauses"] and first["counted"]
    assert set(first["retriage"][0]) == {"at", "from", "to"}  # "from", not "from_"


def test_a_ticket_with_no_clock_explains_as_an_empty_list(api_alice, bob):
    from servicedesk.sla.models import Policy

    Policy.objects.all().delete()
    ticket = make_ticket(requester=bob)

    assert api_alice.get(f"/tickets/{ticket.number}").json()["sla"]["explain"] == []


def test_lists_and_changes_leave_it_out(api_alice, worked_ticket):
    items = api_alice.get("/tickets").json()["items"]
    assert items and all(t["sla"]["explain"] is None for t in items)
    moved = api_alice.post(f"/tickets/{worked_ticket.number}/status", {"status": "in_progress"})
    assert moved.status_code == 200 and moved.json()["sla"]["explain"] is None
