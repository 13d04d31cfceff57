import pytest
from django.core.management import CommandError, call_command

from servicedesk.tickets.models import Ticket


def test_the_command_moves_a_ticket_through_the_service(ticket_a, alice, capsys):
    call_command("ticket", "status", ticket_a.reference, "in_progress", "--by", alice.email)

    assert Ticket.objects.get(pk=ticket_a.pk).status == "in_progress"
    assert "SD-10001 is now In progress." in capsys.readouterr().out


def test_a_forbidden_move_is_the_workflows_message_and_changes_nothing(ticket_a, alice):
    call_command(
        "ticket", "status", str(ticket_a.number), "closed", "--by", alice.email, "--reason", "spam"
    )

    with pytest.raises(CommandError, match="Re-open it first"):
        call_command("ticket", "status", str(ticket_a.number), "in_progress", "--by", alice.email)

    assert Ticket.objects.get(pk=ticket_a.pk).status == "closed"


def test_another_organisations_customer_gets_not_found(ticket_a, charlie):
    with pytest.raises(CommandError, match="No ticket numbered"):
        call_command("ticket", "status", str(ticket_a.number), "closed", "--by", charlie.email)
