"""Prepared reads: compiled once, then run with each call's values, giving what the ORM gives."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicedesk.core import clock
from servicedesk.core.prepared import Prepared
from servicedesk.tickets.models import Comment, Ticket
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def _comments_since():
    return Prepared(
        lambda ticket_id, since: (
            Comment.objects.filter(ticket_id=ticket_id, created_at__gte=since)
            .order_by("pk")
            .values_list("pk", "internal", "created_at", "author__email")
        )
    )


def test_each_call_uses_its_own_values_and_the_orms_conversions(bob, alice):
    from servicedesk.tickets import services
    from servicedesk.tickets.models import Channel

    first, second = make_ticket(requester=bob), make_ticket(requester=bob)
    for ticket, body in ((first, "one"), (second, "two"), (second, "three")):
        services.add_comment(
            ticket=Ticket.objects.get(pk=ticket.pk), author=alice, body=body, channel=Channel.DESK
        )
    read = _comments_since()
    long_ago = clock.now() - timedelta(days=1)

    for ticket in (first, second, first):
        expected = list(
            Comment.objects.filter(ticket=ticket, created_at__gte=long_ago)
            .order_by("pk")
            .values_list("pk", "internal", "created_at", "author__email")
        )
        rows = read(ticket.pk, long_ago)
        assert [tuple(r) for r in rows] == expected
        assert all(isinstance(r.internal, bool) and r.created_at.tzinfo for r in rows)
        assert rows[0].author__email == alice.email
    assert read(second.pk, clock.now() + timedelta(minutes=1)) == []


def test_it_runs_one_statement_and_compiles_once(bob):
    ticket = make_ticket(requester=bob)
    built = []

    def build(ticket_id):
        built.append(ticket_id)
        return Ticket.objects.filter(pk=ticket_id).values_list("number")

    read = Prepared(build)
    with CaptureQueriesContext(connection) as queries:
        assert read(ticket.pk)[0].number == ticket.number
        assert read(ticket.pk + 1000) == []
    assert len(queries) == 2
    # built on the first call only (twice, with two markers, to find the value's place)
    assert len(built) == 2 and ticket.pk not in built


def test_a_value_used_twice_is_put_in_both_places(bob):
    ticket = make_ticket(requester=bob)
    read = Prepared(
        lambda pk: Ticket.objects.filter(pk=pk).exclude(pk__gt=pk).values_list("subject")
    )
    assert read(ticket.pk)[0].subject == ticket.subject


def test_a_string_key_and_a_statement_assembled_by_hand(client, bob):
    client.force_login(bob)
    key = client.session.session_key
    by_key = Prepared(lambda k: Session.objects.filter(session_key=k).values_list("expire_date"))
    assert len(by_key(key)) == 1 and by_key("no-such-key") == []

    def by_hand(pk):
        sql, params = Ticket.objects.filter(pk=pk).values("number").query.sql_with_params()
        return "default", f"SELECT COUNT(*) FROM ({sql}) AS t", params

    counted = Prepared(by_hand)
    ticket = make_ticket(requester=bob)
    assert counted(ticket.pk) == [(1,)] and counted(ticket.pk + 1000) == [(0,)]


def test_a_statement_whose_shape_follows_its_values_is_refused():
    shapes = iter([Ticket.objects.all(), Ticket.objects.filter(subject="x")])
    read = Prepared(lambda pk: next(shapes).filter(pk=pk).values_list("number"))
    with pytest.raises(ValueError, match="changes with its values"):
        read(1)


def test_values_it_cannot_prepare_are_refused():
    read = Prepared(lambda pk: Ticket.objects.filter(pk__in=[pk]).values_list("number"))
    with pytest.raises(TypeError):
        read([1, 2])
    ignoring = Prepared(lambda pk: Ticket.objects.values_list("number"))
    with pytest.raises(ValueError, match="not in the statement"):
        ignoring(1)


def test_an_expired_session_or_a_deactivated_user_signs_nobody_in(client, alice):
    """The session and the user are read by prepared statements (core.sessions,
    accounts.backends): their conditions still hold."""
    client.force_login(alice)
    assert client.get("/desk/").status_code == 200
    Session.objects.update(expire_date=clock.now() - timedelta(seconds=1))
    assert client.get("/desk/")["Location"].startswith("/login/")

    client.force_login(alice)
    assert client.get("/desk/").status_code == 200
    type(alice).objects.filter(pk=alice.pk).update(is_active=False)
    assert client.get("/desk/")["Location"].startswith("/login/")


def test_instances_come_with_their_related_objects_and_annotations(bob, alice):
    from django.db.models import F

    ticket = make_ticket(requester=bob)
    read = Prepared(
        lambda pk: (
            Ticket.objects.select_related("requester", "organisation")
            .annotate(twice=F("number") * 2)
            .filter(pk=pk)
        )
    )
    (got,) = read(ticket.pk)
    with CaptureQueriesContext(connection) as queries:
        assert (got.pk, got.number, got.twice) == (ticket.pk, ticket.number, 2 * ticket.number)
        assert got.requester.email == bob.email
        assert got.organisation.name == bob.organisation.name
        assert got.created_at == Ticket.objects.get(pk=ticket.pk).created_at
    assert len(queries) == 1  # only the comparison's own read
