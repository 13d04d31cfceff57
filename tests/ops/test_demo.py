import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from django.apps import apps
from django.core.management import call_command
from django.http import HttpRequest

from servicedesk.accounts.models import Organisation, User
from servicedesk.mail.models import OutboxMessage
from servicedesk.sla import services as sla_services
from servicedesk.sla.models import TicketClock
from servicedesk.tickets.models import Channel, Comment, Event, EventKind, Product, Ticket
from servicedesk.tickets.workflow import Status
from tests.factories import make_ticket

SLA_EVENTS = {EventKind.SLA_WARNING, EventKind.SLA_BREACH, EventKind.SLA_MET}


def _row_counts() -> dict[str, int]:
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in {"accounts", "tickets", "sla", "mail"}
    }


def test_the_demo_loads_a_realistic_desk(db, capsys):
    call_command("demo")

    countries = set(Organisation.objects.values_list("country", flat=True))
    assert {"GB", "NO", "FR"} <= countries
    assert Ticket.objects.count() >= 60
    assert set(Ticket.objects.values_list("status", flat=True)) == {s.value for s in Status}
    assert set(Ticket.objects.values_list("priority", flat=True)) == {"medium", "high", "critical"}
    assert set(Ticket.objects.values_list("channel", flat=True)) == set(Channel.values)
    assert set(Ticket.objects.values_list("product", flat=True)) == set(
        Product.objects.values_list("pk", flat=True)
    )
    assert (
        Comment.objects.filter(internal=True).exists()
        and Comment.objects.filter(internal=False).exists()
    )
    assert Event.objects.filter(kind=EventKind.CREATED).count() == Ticket.objects.count()
    assert set(User.objects.filter(is_staff=True).values_list("staff_role", flat=True)) >= {
        "service_representative",
        "crm_specialist",
        "software_engineer",
        "support_manager",
        "it_administrator",
    }
    assert TicketClock.objects.exists()
    out = capsys.readouterr().out
    assert "admin@demo.example" in out
    for organisation in Organisation.objects.all():
        admin = organisation.contacts.get(customer_role="customer_admin")
        assert admin.email in out


def test_every_demo_login_uses_the_password_demo(db, client):
    call_command("demo")

    # A request, as every sign-in has: failed sign-ins are counted per address (django-axes).
    assert client.login(request=HttpRequest(), username="admin@demo.example", password="demo")
    admin = User.objects.get(email="admin@demo.example")
    assert admin.is_superuser and admin.is_staff
    for person in User.objects.filter(customer_role="customer_admin"):
        assert person.check_password("demo")


def test_the_demo_history_is_consistent(db):
    call_command("demo")

    for ticket in Ticket.objects.all():
        events = list(ticket.events.order_by("at", "pk"))
        assert events[0].kind == EventKind.CREATED
        statuses = [e for e in events if e.kind == EventKind.STATUS]
        assert (statuses[-1].new if statuses else "new") == ticket.status
        assert ticket.created_at <= min(c.created_at for c in ticket.comments.all())
        # The sweep records warnings and breaches without touching the ticket, so those may
        # come after its last change; everything else is a change of the ticket.
        assert ticket.updated_at >= max(e.at for e in events if e.kind not in SLA_EVENTS)
        assert (ticket.closed_at is not None) == (ticket.status == "closed")
        triaged = [e for e in events if e.kind == EventKind.TRIAGE]
        assert bool(triaged) == (ticket.status != "new")
        if triaged:
            assert ticket.confirmed_urgency == triaged[-1].new["urgency"]
            assert ticket.priority == triaged[-1].new["priority"]
        handovers = [e for e in events if e.kind == EventKind.ASSIGNEE]
        if handovers:
            assert ticket.assignee_id == handovers[-1].new["id"]
        if ticket.status == "waiting_on_third_party":
            assert ticket.group.name == "CRM specialists"
            assert any(e.kind == EventKind.GROUP for e in events)


def test_running_the_demo_twice_changes_nothing(db, capsys):
    call_command("demo")
    before = _row_counts()

    call_command("demo")

    assert _row_counts() == before
    assert "already loaded" in capsys.readouterr().out


def test_tickets_adds_exactly_n_more_with_threads_events_and_unique_numbers(db):
    call_command("demo")
    before = Ticket.objects.count()

    call_command("demo", "--tickets", "50")

    added = Ticket.objects.order_by("-number")[:50]
    assert Ticket.objects.count() == before + 50
    assert Ticket.objects.values("number").distinct().count() == before + 50
    for ticket in added:
        assert ticket.comments.exists()
        assert ticket.events.filter(kind=EventKind.CREATED).exists()


def test_the_demo_migrates_a_fresh_data_dir_first(tmp_path):
    """Before `make run` ever ran: no database at all. Twice: the second run changes nothing."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SERVICEDESK_DATA_DIR"] = str(tmp_path)
    command = [str(Path(sys.executable).parent / "servicedesk"), "demo"]

    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    assert first.returncode == 0, first.stderr
    assert "Demo desk loaded" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout
    with sqlite3.connect(tmp_path / "servicedesk.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM tickets_ticket").fetchone() == (63,)


NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)  # a Wednesday afternoon: the desk is open


def _sla_mail():
    return OutboxMessage.objects.filter(dedupe_key__startswith="sla-")


def test_the_first_sweep_sends_no_sla_mail_for_the_demo_history(db):
    with time_machine.travel(NOW, tick=False):
        call_command("demo")
        # The history decided some clocks already: recorded as they happened, when they did.
        breached = TicketClock.objects.exclude(breached_at=None)
        assert breached.exists()
        for row in breached:
            assert row.breached_at == row.due_at < NOW
            assert row.ticket.events.filter(kind=EventKind.SLA_BREACH, at=row.due_at).exists()
        assert not TicketClock.objects.filter(
            met_at=None, stopped=False, due_at__lte=NOW, breached_at=None
        ).exists()
        assert not TicketClock.objects.filter(
            met_at=None, stopped=False, warn_at__lte=NOW, warned_at=None
        ).exists()

        swept = sla_services.sweep()

        assert (swept.warnings, swept.breaches) == ([], [])
        assert not _sla_mail().exists()
        # A ticket filed now is still swept when its time comes (the sweep is not idle).
        requester = User.objects.get(email="it.admin@harbourfinch.co.uk")
        fresh = make_ticket(requester=requester, urgency=4, impact=4)  # critical: 1 h, 24x7

    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        swept = sla_services.sweep()

    assert (fresh.number, "first_response") in swept.breaches
    assert _sla_mail().filter(ticket=fresh).exists()


def test_the_demo_has_canned_replies_with_placeholders(db):
    from servicedesk.desk.models import Macro
    from servicedesk.ops import demo

    demo.load_macros()
    demo.load_macros()  # safe to run twice

    assert Macro.objects.count() == len(demo.MACROS)
    assert all("{requester_name}" in m.body for m in Macro.objects.all())
