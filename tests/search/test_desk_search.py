"""The desk's search page: ranked hits from the index, each with its snippet, page by page."""

import pytest

from servicedesk.desk.search import PER_PAGE
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, alice):
    client.force_login(alice)
    return client


def test_words_of_the_description_are_found_with_a_marked_snippet(desk, bob):
    ticket = make_ticket(
        requester=bob, subject="Calendar", description="Our SSO certificate <b>expires</b>."
    )
    make_ticket(requester=bob, subject="Other")

    page = desk.get("/desk/search/", {"q": "certificate"}).content.decode()

    assert ticket.reference in page
    assert "<mark>certificate</mark>" in page
    assert "<b>expires</b>" not in page
    assert 'class="count">1<' in page


def test_results_come_page_by_page_best_first(desk, bob):
    best = make_ticket(requester=bob, subject="Quokka quokka", description="quokka")
    for n in range(PER_PAGE + 2):
        make_ticket(requester=bob, subject=f"Ticket {n}", description="A quokka.")

    first = desk.get("/desk/search/", {"q": "quokka"})
    last = desk.get("/desk/search/", {"q": "quokka", "page": "999"})

    assert first.context["rows"][0][0] == best
    assert len(first.context["rows"]) == PER_PAGE
    assert first.context["page"].paginator.count == PER_PAGE + 3
    assert (last.context["page"].number, len(last.context["rows"])) == (2, 3)


def test_a_customer_never_sees_the_page(client, bob):
    client.force_login(bob)

    assert client.get("/desk/search/", {"q": "quokka"}).status_code == 404
