"""The index follows the tickets: the subscriber in each change's transaction, the bulk
loads (API import, demo) by their callers, ``servicedesk search reindex`` for everything."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from servicedesk.ops import demo
from servicedesk.search.index import TABLE
from servicedesk.search.query import find
from servicedesk.tickets import services
from servicedesk.tickets.models import Ticket
from tests.api.conftest import ApiClient
from tests.factories import make_ticket


def numbers(user, text) -> list[int]:
    return sorted(h.ticket.number for h in find(user, text)[0])


def _key() -> str:
    return "ticket_id" if connection.vendor == "postgresql" else "rowid"


def _rows() -> int:
    """Index rows of tickets that exist: the index has no foreign key, and the flush between
    other transactional tests on this database empties the tickets, not it (a stale row is
    never found: every search joins the visible tickets; `search reindex` drops them)."""
    key = "rowid" if connection.vendor == "sqlite" else "ticket_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {TABLE} WHERE {key} IN (SELECT id FROM tickets_ticket)"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_new_subject_or_description_is_indexed_and_the_old_forgotten(alice, bob):
    ticket = make_ticket(requester=bob, subject="Quokka", description="wombat")

    services.update_details(ticket=ticket, by=alice, subject="Platypus", description="echidna")

    assert numbers(alice, "quokka") == numbers(alice, "wombat") == []
    assert numbers(alice, "platypus echidna") == [ticket.number]


@pytest.mark.django_db
def test_a_change_of_other_fields_does_not_touch_the_index(alice, bob):
    ticket = make_ticket(requester=bob, subject="Quokka")
    with connection.cursor() as cursor:  # a row the subscriber would overwrite if it ran
        cursor.execute(f"UPDATE {TABLE} SET subject = 'stale' WHERE {_key()} = %s", [ticket.pk])

    services.update_details(ticket=ticket, by=alice, users_affected=3)
    services.change_status(ticket=ticket, to="open", by=alice)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT subject FROM {TABLE} WHERE {_key()} = %s", [ticket.pk])
        assert cursor.fetchone() == ("stale",)


def test_a_rolled_back_change_leaves_the_index_as_it_was(
    reseed_after_flush, empty_index, alice, bob
):
    ticket = make_ticket(requester=bob, subject="Quokka", description="wombat")

    with pytest.raises(RuntimeError), transaction.atomic():
        services.update_details(ticket=ticket, by=alice, subject="Platypus")
        services.add_comment(ticket=ticket, author=alice, body="echidna")
        assert numbers(alice, "platypus echidna") == [ticket.number]  # indexed with it …
        raise RuntimeError("the change fails after")

    assert numbers(alice, "platypus") == numbers(alice, "echidna") == []  # … and gone with it
    assert numbers(alice, "quokka wombat") == [ticket.number]


@pytest.mark.django_db
def test_reindex_rebuilds_the_index_from_the_tickets(alice, bob, capsys):
    ticket = make_ticket(requester=bob, subject="Quokka")
    services.add_comment(ticket=ticket, author=alice, body="wombat", internal=True)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        if connection.vendor == "postgresql":  # a row of a ticket that is gone
            cursor.execute(
                f"INSERT INTO {TABLE} VALUES (%s, 'ghost', '', '', to_tsvector('ghost'))", [10**9]
            )
        else:
            cursor.execute(f"INSERT INTO {TABLE} (rowid, subject) VALUES (%s, 'ghost')", [10**9])
    assert numbers(alice, "quokka") == []

    call_command("search", "reindex", "--batch", "1")

    assert numbers(alice, "quokka wombat") == [ticket.number]
    assert _rows() == Ticket.objects.count()
    assert "tickets indexed" in capsys.readouterr().out


@pytest.mark.django_db
def test_tickets_imported_through_the_api_are_found(alice, org_a, settings):
    from servicedesk.accounts.models import StaffRole
    from tests.factories import StaffFactory

    settings.SERVICEDESK_API_RATE_LIMIT = 0
    admin = ApiClient(StaffFactory(email="it@desk.example", staff_role=StaffRole.IT_ADMINISTRATOR))
    answer = admin.post(
        "/imports/tickets",
        [
            {
                "external_id": "old-1",
                "subject": "Legacy",
                "description": "The refund never arrived.",
                "requester_email": "someone@alpha.example",
                "organisation": org_a.pk,
                "created_at": "2024-01-02T10:00:00Z",
                "thread": [
                    {
                        "author_email": "alice@desk.example",
                        "body": "Checked with finance: zebracorn.",
                        "internal": True,
                        "created_at": "2024-01-02T11:00:00Z",
                    }
                ],
            }
        ],
    )
    assert answer.status_code == 200, answer.content
    number = answer.json()["tickets"][0]["number"]

    assert numbers(alice, "refund zebracorn") == [number]
    requester = Ticket.objects.get(number=number).requester
    assert numbers(requester, "refund") == [number]
    assert numbers(requester, "zebracorn") == []


@pytest.mark.django_db
def test_the_demo_leaves_an_index_that_finds_its_tickets(alice):
    demo.load(base_tickets=20)
    demo.add_tickets(30, seed=3, cycle=False, days=30)

    assert _rows() == Ticket.objects.count() == 50
    subject = Ticket.objects.order_by("pk").last().subject
    hits, _ = find(alice, subject)
    assert any(h.ticket.subject == subject for h in hits)


@pytest.mark.django_db
def test_a_huge_description_is_indexed_in_part_and_breaks_nothing(alice, bob):
    huge = " ".join(f"word{n}x" for n in range(200_000))  # 2 MB; a tsvector holds 1 MB

    ticket = make_ticket(requester=bob, subject="Huge", description=huge)
    services.add_comment(ticket=ticket, author=alice, body="zebracorn")

    assert numbers(alice, "word0x zebracorn") == [ticket.number]
    assert numbers(alice, "word199999x") == []  # past what is indexed
