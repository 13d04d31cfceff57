"""Satisfaction (issue 14 item 6): one-click rating from the emails by a signed, expiring
link (recorded on POST only), and on the portal's ticket page; shown to staff on the desk.
Every bad token — tampered, expired, another purpose, another person's — is a 404 that
changes nothing, and so is another organisation's ticket."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from servicedesk.core import links
from servicedesk.core.errors import NotFound, PermissionDenied
from servicedesk.portal.rating import rating_token
from servicedesk.tickets import closing_services, services
from servicedesk.tickets.closing_services import RatingNotOpen
from servicedesk.tickets.models import Event, EventKind, Rating
from servicedesk.tickets.services import InvalidTicket
from tests.factories import CustomerFactory, make_ticket

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def resolved(ticket_a, alice):
    return services.change_status(ticket=ticket_a, to="resolved", by=alice)


def link(ticket, person, value="good") -> str:
    return reverse("portal:rate", args=[rating_token(ticket, person, value)])


def _state() -> tuple:
    return (
        list(Rating.objects.values_list("ticket", "by", "value", "comment")),
        Event.objects.filter(kind=EventKind.RATED).count(),
    )


# ---- By signed link ------------------------------------------------------------------------


def test_the_link_shows_what_will_be_recorded_and_records_nothing_on_get(client, resolved, bob):
    page = client.get(link(resolved, bob, "bad"))

    assert page.status_code == 200
    html = page.content.decode()
    assert resolved.reference in html
    assert re.search(r'<input[^>]*value="bad"[^>]*checked', html)
    assert not re.search(r'<input[^>]*value="good"[^>]*checked', html)
    assert 'method="post"' in html
    assert _state() == ([], 0)


def test_a_good_rating_by_link(client, resolved, bob):
    answer = client.post(link(resolved, bob, "good"), {"value": "good", "comment": ""})

    assert answer.status_code == 200
    assert "Thank you for your rating." in answer.content.decode()
    assert _state() == ([(resolved.pk, bob.pk, "good", "")], 1)


def test_a_bad_rating_with_a_comment_by_link(client, resolved, bob):
    client.post(link(resolved, bob, "bad"), {"value": "bad", "comment": "Took three days."})

    assert _state() == ([(resolved.pk, bob.pk, "bad", "Took three days.")], 1)


def test_rating_again_replaces_the_rating_and_records_another_event(client, resolved, bob):
    client.post(link(resolved, bob, "bad"), {"value": "bad", "comment": "Slow."})

    client.post(link(resolved, bob, "good"), {"value": "good", "comment": "Fixed for good."})

    assert _state() == ([(resolved.pk, bob.pk, "good", "Fixed for good.")], 2)


def test_a_closed_ticket_can_be_rated(client, resolved, bob):
    services.change_status(ticket=resolved, to="closed", by=bob)

    client.post(link(resolved, bob), {"value": "good"})

    assert _state()[1] == 1


def _tampered(token: str) -> str:
    payload, stamp, signature = token.rsplit(":", 2)
    return f"{payload}:{stamp}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_is_not_found(client, resolved, bob, method):
    token = _tampered(rating_token(resolved, bob, "good"))

    answer = getattr(client, method)(reverse("portal:rate", args=[token]), {"value": "good"})

    assert answer.status_code == 404
    assert _state() == ([], 0)


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_token_is_not_found(client, resolved, bob, settings, method):
    settings.SERVICEDESK_LINK_DAYS = 7
    address = link(resolved, bob)

    with time_machine.travel(NOW + timedelta(days=7, minutes=1), tick=False):
        answer = getattr(client, method)(address, {"value": "good"})

    assert answer.status_code == 404
    assert _state() == ([], 0)


@pytest.mark.parametrize(
    "token",
    [
        lambda t, p: links.login_token(p, ticket_number=t.number),  # a login link
        lambda t, p: links.sign("login", {"t": t.pk, "u": p.pk, "v": "good"}),
        lambda t, p: links.sign("rate", {"t": t.pk, "u": p.pk, "v": "excellent"}),
        lambda t, p: links.sign("rate", {"t": t.pk + 999, "u": p.pk, "v": "good"}),
        lambda t, p: "not-a-token",
    ],
    ids=["login-token", "other-purpose", "bad-value", "no-such-ticket", "garbage"],
)
def test_a_token_of_another_purpose_or_naming_nothing_is_not_found(client, resolved, bob, token):
    address = reverse("portal:rate", args=[token(resolved, bob)])

    answers = [client.get(address), client.post(address, {"value": "good"})]

    assert [a.status_code for a in answers] == [404, 404]
    assert _state() == ([], 0)


def test_a_token_for_someone_outside_the_ticket_is_not_found(client, resolved, charlie):
    """charlie (organisation B) holds a genuine token naming A's ticket: still nothing."""
    address = link(resolved, charlie)

    answers = [client.get(address), client.post(address, {"value": "bad"})]

    assert [a.status_code for a in answers] == [404, 404]
    assert _state() == ([], 0)


def test_another_persons_link_opened_while_signed_in_is_not_found(client, resolved, bob, bob_admin):
    client.force_login(bob_admin)
    address = link(resolved, bob)

    answers = [client.get(address), client.post(address, {"value": "bad"})]

    assert [a.status_code for a in answers] == [404, 404]
    assert _state() == ([], 0)


def test_a_staff_token_is_not_found(client, resolved, alice):
    answer = client.post(link(resolved, alice), {"value": "good"})

    assert answer.status_code == 404
    assert _state() == ([], 0)


def test_an_open_ticket_cannot_be_rated_by_link(client, ticket_a, bob):
    answers = [client.get(link(ticket_a, bob)), client.post(link(ticket_a, bob), {"value": "good"})]

    assert [a.status_code for a in answers] == [404, 404]
    assert _state() == ([], 0)


def test_a_form_without_a_choice_records_nothing(client, resolved, bob):
    answer = client.post(link(resolved, bob), {"value": "superb"})

    assert answer.status_code == 400
    assert _state() == ([], 0)


# ---- On the portal ------------------------------------------------------------------------


def rate_on_portal(client, ticket, **data):
    return client.post(reverse("portal:rate-ticket", args=[ticket.number]), data)


def test_a_signed_in_customer_rates_from_the_ticket_page(client, resolved, bob):
    client.force_login(bob)

    answer = rate_on_portal(client, resolved, value="bad", comment="Nobody called back.")

    assert answer.status_code == 302
    assert _state() == ([(resolved.pk, bob.pk, "bad", "Nobody called back.")], 1)


def test_the_organisations_administrator_may_rate_a_colleagues_ticket(client, resolved, bob_admin):
    client.force_login(bob_admin)

    rate_on_portal(client, resolved, value="good")

    assert _state() == ([(resolved.pk, bob_admin.pk, "good", "")], 1)


def test_a_customer_of_another_organisation_cannot_rate(client, resolved, charlie):
    client.force_login(charlie)

    answer = rate_on_portal(client, resolved, value="bad")

    assert answer.status_code == 404
    assert _state() == ([], 0)


def test_staff_cannot_rate_on_the_portal(client, resolved, alice):
    client.force_login(alice)

    answer = rate_on_portal(client, resolved, value="good")

    assert answer.status_code == 404
    assert _state() == ([], 0)


def test_signing_in_comes_first(client, resolved):
    answer = rate_on_portal(client, resolved, value="good")

    assert answer.status_code == 302
    assert "/login/" in answer["Location"]
    assert _state() == ([], 0)


def test_the_portal_form_is_only_offered_once_resolved(resolved, bob, alice):
    request = RequestFactory().get("/")
    request.user = bob

    offered = render_to_string("portal/_rating.html", {"ticket": resolved}, request=request)
    reopened = services.change_status(ticket=resolved, to="in_progress", by=alice)
    withheld = render_to_string("portal/_rating.html", {"ticket": reopened}, request=request)

    assert reverse("portal:rate-ticket", args=[resolved.number]) in offered
    assert withheld.strip() == ""


# ---- The service, and the desk -------------------------------------------------------------


def test_the_service_refuses_staff_strangers_open_tickets_and_odd_values(
    resolved, alice, charlie, bob
):
    still_open = make_ticket(requester=bob)

    with pytest.raises(PermissionDenied):
        closing_services.rate(ticket=resolved, by=alice, value="good")
    with pytest.raises(NotFound):
        closing_services.rate(ticket=resolved, by=charlie, value="good")
    with pytest.raises(RatingNotOpen):
        closing_services.rate(ticket=still_open, by=bob, value="good")
    with pytest.raises(InvalidTicket):
        closing_services.rate(ticket=resolved, by=bob, value="meh")
    assert _state() == ([], 0)


def test_staff_see_the_rating_on_the_desk_ticket_page(client, resolved, bob, alice):
    closing_services.rate(ticket=resolved, by=bob, value="bad", comment="Took three days.")
    client.force_login(alice)

    page = client.get(reverse("desk:ticket", args=[resolved.number])).content.decode()

    satisfaction = page[page.index('id="satisfaction"') :]
    assert "Bad" in satisfaction
    assert "Took three days." in satisfaction
    assert bob.display_name in satisfaction


def test_a_customer_sees_only_their_own_ratings(resolved, bob, bob_admin, charlie):
    closing_services.rate(ticket=resolved, by=bob, value="bad")
    closing_services.rate(ticket=resolved, by=bob_admin, value="good")

    assert [r.by for r in closing_services.ratings_of(resolved, user=bob)] == [bob]
    assert closing_services.ratings_of(resolved, user=charlie) == []


def test_the_link_page_speaks_the_language_of_the_person_it_is_for(client, bob, alice):
    kari = CustomerFactory(email="kari@alpha.example", organisation=bob.organisation, language="nb")
    ticket = services.change_status(ticket=make_ticket(requester=kari), to="resolved", by=alice)

    page = client.get(link(ticket, kari)).content.decode()

    assert '<html lang="nb">' in page
