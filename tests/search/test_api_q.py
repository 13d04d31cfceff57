"""GET /api/v1/tickets?q=: the same index as the desk (it used to look at subjects only)."""

import pytest

from servicedesk.tickets import services
from tests.api.conftest import ApiClient
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.SERVICEDESK_API_RATE_LIMIT = 0


def listed(client, **params) -> list[int]:
    response = client.get("/tickets", params)
    assert response.status_code == 200, response.content
    return [t["number"] for t in response.json()["items"]]


def test_q_finds_words_of_the_description_and_thread(alice, bob):
    described = make_ticket(requester=bob, subject="Sync", description="The webhook is silent.")
    replied = make_ticket(requester=bob, subject="Login")
    services.add_comment(ticket=replied, author=alice, body="Renew the certificate, please.")
    make_ticket(requester=bob, subject="Other", description="Nothing to see.")

    for client in (ApiClient(alice), ApiClient(bob)):
        assert listed(client, q="webhook") == [described.number]
        assert listed(client, q="certificate") == [replied.number]


def test_q_finds_note_words_for_staff_only(alice, bob, charlie):
    ticket = make_ticket(requester=bob, subject="Sync")
    services.add_comment(ticket=ticket, author=alice, body="zebracorn", internal=True)
    theirs = make_ticket(requester=charlie, subject="Sync", description="webhook")

    assert listed(ApiClient(alice), q="zebracorn") == [ticket.number]
    assert listed(ApiClient(bob), q="zebracorn") == []
    assert listed(ApiClient(bob), q="webhook") == []
    assert listed(ApiClient(charlie), q="webhook") == [theirs.number]


def test_q_keeps_the_ordering_filters_and_cursor(alice, bob):
    found = [make_ticket(requester=bob, subject=f"Refund {n}") for n in range(5)]
    make_ticket(requester=bob, subject="Unrelated")
    client = ApiClient(alice)

    pages, cursor = [], None
    while True:
        params = {"q": "refund", "ordering": "-number", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        answer = client.get("/tickets", params).json()
        pages.append([t["number"] for t in answer["items"]])
        cursor = answer["next_cursor"]
        if not cursor:
            break

    assert pages == [
        [found[4].number, found[3].number],
        [found[2].number, found[1].number],
        [found[0].number],
    ]
    assert listed(client, q="refund", status="closed") == []
    assert listed(client, q=found[2].reference) == [found[2].number]


@pytest.mark.parametrize("q", ['"', "NEAR(", "AND", "-", "(((", "*", "a%00b"])
def test_q_answers_hostile_input(alice, bob, q):
    make_ticket(requester=bob, subject="Printer")

    assert listed(ApiClient(alice), q=q) == []
