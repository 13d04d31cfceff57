"""Filing answers from the objects it made, without reading the ticket back: the answer must
be the ticket exactly as a read gives it (with the same ETag), for every kind of filing."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "extra",
    [
        {"requester_email": "new.contact@alpha.example", "urgency": 3, "impact": 4},
        {"requester_email": "bob@alpha.example", "cc": ["eve@alpha.example"]},
        {"requester_email": "stranger@nowhere.example"},
    ],
)
def test_the_answer_to_a_filing_is_the_ticket_as_read(api_alice, bob, org_a, extra):
    from servicedesk.accounts.models import EmailDomain

    EmailDomain.objects.get_or_create(organisation=org_a, domain="alpha.example")
    filed = api_alice.post("/tickets", {"subject": "Sync fails", **extra})
    assert filed.status_code == 201, filed.content

    read = api_alice.get(f"/tickets/{filed.json()['number']}")

    answer, stored = filed.json(), read.json()
    assert stored["sla"].pop("explain") is not None  # the single read adds the breakdown
    assert answer["sla"].pop("explain") is None
    assert answer == stored
    assert filed["ETag"] == read["ETag"]
