from django.apps import apps
from django.core.management import call_command

from servicedesk.accounts.models import Organisation, User
from servicedesk.sla.models import TicketClock
from servicedesk.tickets.models import Channel, Comment, Event, EventKind, Product, Ticket
from servicedesk.tickets.workflow import Status


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

    assert client.login(username="admin@demo.example", password="demo")
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
        assert ticket.updated_at >= max(e.at for e in events)
        assert (ticket.closed_at is not None) == (ticket.status == "closed")


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
