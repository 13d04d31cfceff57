"""The ticket admin changes tickets only through the services; refused moves are form errors."""

import re

import pytest

from servicedesk.tickets.models import Comment, Event, EventKind, PriorityBand, Ticket
from tests.factories import make_ticket


@pytest.fixture
def admin_client(client, alice):
    alice.is_superuser = True
    alice.save()
    client.force_login(alice)
    return client


def _form_data(response) -> dict:
    """The POST a browser would send for the change form as rendered, unchanged."""
    html = response.content.decode()
    data = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        data.setdefault(name, value)
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = body.strip("\n")
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option value="([^"]*)"[^>]*selected', options)
        data[name] = selected.group(1) if selected else ""
    for tag in re.findall(r'<input[^>]*type="checkbox"[^>]*>', html):
        name = re.search(r'name="([^"]+)"', tag)
        if (
            name
        ):  # unchecked boxes are not sent; Tailwind's "checked:" classes are not the attribute
            data.pop(name.group(1), None)
            if re.search(r"\schecked(?=[\s>=/])", tag):
                data[name.group(1)] = "on"
    return {k: v for k, v in data.items() if not k.startswith("_") and k != "action"}


def _change(admin_client, ticket, **changes):
    url = f"/admin/tickets/ticket/{ticket.pk}/change/"
    data = _form_data(admin_client.get(url))
    data.update(changes)
    return admin_client.post(url, data)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/tickets/ticket/",
        "/admin/tickets/ticket/add/",
        "/admin/accounts/organisation/",
        "/admin/accounts/contact/",
        "/admin/accounts/staff/",
        "/admin/accounts/group/",
        "/admin/accounts/vendor/",
        "/admin/tickets/product/",
        "/admin/tickets/category/",
        "/admin/tickets/priorityband/",
        "/admin/sla/calendar/",
        "/admin/sla/policy/",
        "/admin/mail/outboxmessage/",
    ],
)
def test_each_admin_page_renders(admin_client, ticket_a, url):
    assert admin_client.get(url).status_code == 200


def test_the_change_page_shows_the_thread_notes_and_history(admin_client, ticket_a, alice):
    from servicedesk.tickets import services

    services.add_comment(ticket=ticket_a, author=alice, body="Visible reply text", internal=False)
    services.add_comment(ticket=ticket_a, author=alice, body="Secret internal text", internal=True)

    page = admin_client.get(f"/admin/tickets/ticket/{ticket_a.pk}/change/").content.decode()

    assert "Visible reply text" in page and "Secret internal text" in page
    assert "SD-10001" in page
    assert "First response: " in page  # the SLA summary


def test_changing_the_status_goes_through_the_service(admin_client, ticket_a):
    response = _change(admin_client, ticket_a, status="in_progress")

    assert response.status_code == 302
    ticket_a.refresh_from_db()
    assert ticket_a.status == "in_progress"
    assert Event.objects.filter(ticket=ticket_a, kind=EventKind.STATUS, new="in_progress").exists()


def test_a_forbidden_move_is_a_form_error_and_changes_nothing(admin_client, ticket_a, alice):
    from servicedesk.tickets import services

    services.change_status(ticket=ticket_a, to="closed", by=alice, reason="spam")
    events = Event.objects.count()

    response = _change(admin_client, ticket_a, status="in_progress")

    assert response.status_code == 200
    assert "Re-open it first" in response.content.decode()
    ticket_a.refresh_from_db()
    assert ticket_a.status == "closed"
    assert Event.objects.count() == events


def test_confirming_triage_in_the_admin_keeps_the_proposal(admin_client, ticket_a):
    _change(admin_client, ticket_a, confirmed_urgency="4", confirmed_impact="3")

    ticket_a.refresh_from_db()
    assert (ticket_a.proposed_urgency, ticket_a.confirmed_urgency, ticket_a.priority) == (
        2,
        4,
        "critical",
    )
    assert ticket_a.status == "open"
    assert Event.objects.filter(ticket=ticket_a, kind=EventKind.TRIAGE).count() == 1


def test_a_reply_written_in_the_admin_is_added_through_the_service(admin_client, ticket_a):
    _change(
        admin_client,
        ticket_a,
        **{"comments-2-0-body": "We are on it.", "comments-2-TOTAL_FORMS": "1"},
    )

    comment = Comment.objects.get(ticket=ticket_a)
    assert comment.body == "We are on it." and not comment.internal
    assert Event.objects.filter(ticket=ticket_a, kind=EventKind.REPLY).exists()


def test_adding_a_ticket_for_a_caller_uses_the_service(admin_client, bob):
    response = admin_client.post(
        "/admin/tickets/ticket/add/",
        {
            "requester": bob.pk,
            "channel": "phone",
            "subject": "Caller cannot log in",
            "description": "",
            "proposed_urgency": "3",
            "proposed_impact": "2",
        },
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.number, ticket.channel, ticket.score, ticket.organisation) == (
        10001,
        "phone",
        6,
        bob.organisation,
    )
    assert Event.objects.filter(
        ticket=ticket, kind=EventKind.CREATED, actor__email="alice@desk.example"
    ).exists()


def test_bulk_actions_apply_and_report_refusals(admin_client, bob, alice):
    from servicedesk.tickets import services

    movable, closed = make_ticket(requester=bob), make_ticket(requester=bob)
    services.change_status(ticket=closed, to="closed", by=alice, reason="duplicate")

    response = admin_client.post(
        "/admin/tickets/ticket/",
        {"action": "mark_in_progress", "_selected_action": [movable.pk, closed.pk]},
        follow=True,
    )

    movable.refresh_from_db()
    closed.refresh_from_db()
    assert (movable.status, closed.status) == ("in_progress", "closed")
    assert "Re-open it first" in response.content.decode()


def test_confirm_proposed_triage_action(admin_client, ticket_a):
    admin_client.post(
        "/admin/tickets/ticket/",
        {"action": "confirm_proposed_triage", "_selected_action": [ticket_a.pk]},
    )

    ticket_a.refresh_from_db()
    assert ticket_a.confirmed_triage == (2, 2)


def test_an_overlapping_priority_band_is_refused(admin_client):
    response = admin_client.post(
        "/admin/tickets/priorityband/add/",
        {"key": "urgent", "label": "Urgent", "min_score": 10, "max_score": 12},
    )

    assert response.status_code == 200
    assert "overlap" in response.content.decode()
    assert not PriorityBand.objects.filter(key="urgent").exists()


def test_the_ticket_list_makes_a_bounded_number_of_queries(
    admin_client, bob, django_assert_max_num_queries
):
    for _ in range(30):
        make_ticket(requester=bob)

    with django_assert_max_num_queries(12):
        response = admin_client.get("/admin/tickets/ticket/")

    assert response.status_code == 200


def test_tickets_cannot_be_deleted_from_the_admin(admin_client, ticket_a):
    response = admin_client.post(f"/admin/tickets/ticket/{ticket_a.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Ticket.objects.filter(pk=ticket_a.pk).exists()
