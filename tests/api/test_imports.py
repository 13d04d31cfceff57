"""POST /api/v1/imports/tickets: history kept, SLA from the original timestamps, idempotent."""

from datetime import UTC, datetime, timedelta

import pytest

from servicedesk.accounts.models import User
from servicedesk.mail.models import OutboxMessage
from servicedesk.sla import services as sla_services
from servicedesk.sla.models import ClockKind, TicketClock
from servicedesk.tickets.models import Comment, Event, Ticket

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _item(n: int, **overrides) -> dict:
    item = {
        "external_id": f"zammad-{n}",
        "subject": f"Imported {n}",
        "description": "From the old desk.",
        "requester_email": f"person{n}@legacy.example",
        "status": "open",
        "urgency": 2,
        "impact": 2,
        "created_at": (START + timedelta(hours=n)).isoformat(),
        "thread": [
            {
                "author_email": f"person{n}@legacy.example",
                "body": "Any news?",
                "created_at": (START + timedelta(hours=n, minutes=30)).isoformat(),
            },
        ],
    }
    item.update(overrides)
    return item


def test_import_keeps_history_and_computes_clocks_from_the_original_times(api_admin, alice):
    closed = _item(
        2,
        status="closed",
        thread=[
            {
                "author_email": "person2@legacy.example",
                "body": "Broken",
                "created_at": (START + timedelta(hours=2, minutes=5)).isoformat(),
            },
            {
                "author_email": alice.email,
                "body": "Checked the logs",
                "internal": True,
                "created_at": (START + timedelta(hours=3)).isoformat(),
            },
            {
                "author_email": alice.email,
                "body": "Fixed",
                "created_at": (START + timedelta(hours=4)).isoformat(),
            },
        ],
        status_history=[
            {"status": "open", "at": (START + timedelta(hours=2, minutes=10)).isoformat()},
            {"status": "resolved", "at": (START + timedelta(hours=4)).isoformat()},
            {"status": "closed", "at": (START + timedelta(days=3)).isoformat()},
        ],
    )
    response = api_admin.post("/imports/tickets", [_item(1), closed])
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["skipped"]) == (2, 0)
    numbers = {t["external_id"]: t["number"] for t in body["tickets"]}
    assert all(t["reference"] == f"SD-{t['number']}" for t in body["tickets"])
    active = Ticket.objects.get(number=numbers["zammad-1"])
    assert active.created_at == START + timedelta(hours=1)
    assert active.updated_at == START + timedelta(hours=1, minutes=30)
    assert active.requester == User.objects.get(email="person1@legacy.example")
    first_response = TicketClock.objects.get(ticket=active, kind=ClockKind.FIRST_RESPONSE)
    assert first_response.started_at == active.created_at
    assert first_response.due_at is not None and active.sla_due_at is not None
    old = Ticket.objects.get(number=numbers["zammad-2"])
    assert old.status == "closed" and old.closed_at == START + timedelta(days=3)
    thread = list(Comment.objects.filter(ticket=old).order_by("created_at"))
    assert [(c.body, c.internal, c.author.email) for c in thread] == [
        ("Broken", False, "person2@legacy.example"),
        ("Checked the logs", True, alice.email),
        ("Fixed", False, alice.email),
    ]
    moves = list(
        Event.objects.filter(ticket=old, kind="status").order_by("at").values_list("old", "new")
    )
    assert moves == [("new", "open"), ("open", "resolved"), ("resolved", "closed")]
    assert not OutboxMessage.objects.exists()  # history sends no mail
    desk = api_admin.get(f"/tickets/{old.number}/replies").json()
    assert [r["body"] for r in desk] == ["Broken", "Checked the logs", "Fixed"]


def test_import_is_idempotent_by_external_id(api_admin):
    first = api_admin.post("/imports/tickets", [_item(1), _item(2)]).json()
    again = api_admin.post("/imports/tickets", [_item(2), _item(3), _item(3)]).json()
    assert (again["created"], again["skipped"]) == (1, 1)
    before = {t["external_id"]: t["number"] for t in first["tickets"]}
    after = {t["external_id"]: (t["number"], t["created"]) for t in again["tickets"]}
    assert [t["reference"] for t in again["tickets"]] == [
        f"SD-{after['zammad-3'][0]}",
        f"SD-{before['zammad-2']}",
    ]  # the created first, then the skipped
    assert after["zammad-2"] == (before["zammad-2"], False)
    assert after["zammad-3"][1] is True
    assert Ticket.objects.count() == 3
    assert Comment.objects.count() == 3


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "paused"},
        {"created_at": "2026-03-02T09:00:00"},  # no offset
        {"created_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()},
        {"urgency": 3, "impact": None},
        {"organisation": 999999},
        {
            "thread": [
                {
                    "author_email": "a@b.example",
                    "body": "x",
                    "created_at": "2020-01-01T00:00:00+00:00",
                }
            ]
        },
    ],
)
def test_a_bad_item_refuses_the_whole_call_and_changes_nothing(api_admin, bad):
    response = api_admin.post("/imports/tickets", [_item(1), _item(2, **bad)])
    assert response.status_code in (400, 422), response.content
    assert response.json()["code"]
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email__endswith="legacy.example").exists()


def test_only_administrators_import(api_alice, api_bob):
    assert api_alice.post("/imports/tickets", [_item(1)]).status_code == 403
    assert api_bob.post("/imports/tickets", [_item(1)]).status_code == 404
    assert not Ticket.objects.exists()


def test_a_large_import_uses_bulk_writes(api_admin, django_assert_max_num_queries):
    items = [_item(n) for n in range(300)]
    with django_assert_max_num_queries(60):
        response = api_admin.post("/imports/tickets", items)
    assert response.json()["created"] == 300
    assert TicketClock.objects.filter(kind=ClockKind.FIRST_RESPONSE).count() == 300


def test_dates_from_before_any_desk_are_refused(api_admin):
    response = api_admin.post(
        "/imports/tickets", [_item(1, created_at="0001-01-01T00:00:00+00:00", thread=[])]
    )
    assert response.status_code == 422 and "before" in response.json()["message"]
    assert not Ticket.objects.exists()


def test_the_first_sweep_after_an_import_announces_nothing_of_its_past(api_admin):
    """Clocks long past due arrive settled (breached at their due time, with the event),
    so the sweep mails nobody about history."""
    response = api_admin.post("/imports/tickets", [_item(n) for n in range(3)])
    assert response.json()["created"] == 3

    swept = sla_services.sweep()

    assert (swept.warnings, swept.breaches) == ([], [])
    assert not OutboxMessage.objects.exists()
    breached = TicketClock.objects.exclude(breached_at=None)
    assert breached.count() == 3
    assert all(c.breached_at == c.due_at for c in breached)
    assert Event.objects.filter(kind="sla_breach").count() == 3
