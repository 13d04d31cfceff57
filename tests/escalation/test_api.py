"""POST /api/v1/tickets/{number}/escalations, GET /api/v1/vendors, and the ticket JSON's
level and escalations; the new events reach webhooks."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicedesk.api import webhooks
from servicedesk.api.models import Webhook, WebhookDelivery
from servicedesk.escalation import services
from servicedesk.escalation.models import Escalation
from servicedesk.tickets.models import EventKind, Ticket
from tests.api.conftest import ApiClient
from tests.factories import VendorFactory, make_ticket

MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
PROMISED = "2026-11-18T12:00:00Z"


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.SERVICEDESK_API_RATE_LIMIT = 0


@pytest.fixture
def api_alice(alice):
    return ApiClient(alice)


@pytest.fixture
def vendor(db):
    return VendorFactory(name="SuperOffice AS", email="support@superoffice.example")


@pytest.fixture
def frozen():
    with time_machine.travel(MONDAY_9, tick=False):
        yield


def test_an_internal_escalation_answers_201_with_the_escalation(api_alice, ticket_a):
    answer = api_alice.post(
        f"/tickets/{ticket_a.number}/escalations",
        {"kind": "internal", "level": "L2", "reason": "Needs a CRM specialist"},
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["kind"], body["target"], body["level"], body["from_level"]) == (
        "internal",
        "L2",
        "L2",
        "L1",
    )
    assert body["group"]["name"] == "CRM specialists"
    assert body["overdue"] is False
    assert Ticket.objects.get(pk=ticket_a.pk).group.level == "L2"


def test_a_vendor_escalation_by_reference_answers_201(api_alice, ticket_a, vendor, frozen):
    answer = api_alice.post(
        f"/tickets/{ticket_a.reference}/escalations",
        {
            "kind": "vendor",
            "vendor": vendor.pk,
            "reference": "SO-4711",
            "promised_by": PROMISED,
            "reason": "Sync bug",
            "channel": "phone",
            "contract": "quote",
            "contact": "Kari",
        },
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["target"], body["reference"], body["channel"], body["contract"]) == (
        "SuperOffice AS",
        "SO-4711",
        "phone",
        "quote",
    )
    assert body["promised_by"] == "2026-11-18T12:00:00Z"
    assert body["vendor"] == {"id": vendor.pk, "name": "SuperOffice AS"}
    assert Ticket.objects.get(pk=ticket_a.pk).status == "waiting_on_third_party"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "internal", "level": "L4", "reason": "x"},
        {"kind": "internal", "reason": "x"},
        {"kind": "internal", "level": "L2", "reason": "  "},
        {"kind": "vendor", "vendor": 987654, "reason": "x"},
        {"kind": "vendor", "reason": "x"},
        {"kind": "vendor", "vendor": "VENDOR", "reason": "x", "promised_by": "next week"},
        {"kind": "vendor", "vendor": "VENDOR", "reason": "x", "promised_by": "2020-01-01T00:00Z"},
        {"kind": "vendor", "vendor": "VENDOR", "reason": "x", "notify_customer": False},
        {"kind": "pigeon", "reason": "x"},
    ],
)
def test_a_bad_level_vendor_or_date_is_422_and_changes_nothing(
    api_alice, ticket_a, vendor, frozen, body
):
    if body.get("vendor") == "VENDOR":
        body = {**body, "vendor": vendor.pk}

    answer = api_alice.post(f"/tickets/{ticket_a.number}/escalations", body)

    assert answer.status_code == 422, answer.content
    assert not Escalation.objects.exists()
    assert Ticket.objects.get(pk=ticket_a.pk).status == ticket_a.status


def test_escalating_to_the_level_it_is_at_is_409(api_alice, ticket_a):
    answer = api_alice.post(
        f"/tickets/{ticket_a.number}/escalations",
        {"kind": "internal", "level": "L1", "reason": "x"},
    )

    assert answer.status_code == 409
    assert answer.json()["code"] == "escalation_not_allowed"


@pytest.mark.parametrize("party", ["bob", "charlie"])
def test_customers_get_404_and_change_nothing(request, ticket_a, party):
    client = ApiClient(request.getfixturevalue(party))

    posted = client.post(
        f"/tickets/{ticket_a.number}/escalations",
        {"kind": "internal", "level": "L2", "reason": "faster please"},
    )
    listed = client.get(f"/tickets/{ticket_a.number}/escalations")
    vendors = client.get("/vendors")

    assert (posted.status_code, listed.status_code, vendors.status_code) == (404, 404, 404)
    assert not Escalation.objects.exists()


def test_an_unknown_ticket_is_404(api_alice):
    answer = api_alice.post(
        "/tickets/99999/escalations", {"kind": "internal", "level": "L2", "reason": "x"}
    )

    assert answer.status_code == 404


def test_vendors_are_listed_for_staff(api_alice, vendor):
    VendorFactory(name="Azure hosting", kind="hosting_provider", email="")

    answer = api_alice.get("/vendors")

    assert answer.status_code == 200
    assert answer.json() == [
        {
            "id": answer.json()[0]["id"],
            "name": "Azure hosting",
            "kind": "hosting_provider",
            "email": "",
        },
        {
            "id": vendor.pk,
            "name": "SuperOffice AS",
            "kind": "software_owner",
            "email": vendor.email,
        },
    ]


def test_the_ticket_json_shows_level_and_escalations_with_overdue(
    api_alice, ticket_a, alice, vendor
):
    with time_machine.travel(MONDAY_9, tick=False):
        services.escalate_internal(ticket=ticket_a, to_level="L2", reason="a", by=alice)
        services.escalate_to_vendor(
            ticket=ticket_a,
            vendor=vendor,
            reason="b",
            by=alice,
            reference="SO-1",
            promised_by=MONDAY_9 + timedelta(hours=2),
        )

    with time_machine.travel(MONDAY_9 + timedelta(hours=3), tick=False):
        body = api_alice.get(f"/tickets/{ticket_a.number}").json()

    assert body["level"] == "L2"
    assert [
        (e["kind"], e["target"], e["reference"], e["overdue"]) for e in body["escalations"]
    ] == [
        ("internal", "L2", "", False),
        ("vendor", "SuperOffice AS", "SO-1", True),
    ]
    assert body["escalations"][1]["promised_by"] == "2026-11-16T11:00:00Z"


def test_customers_see_the_level_but_not_the_escalations(ticket_a, alice, bob, vendor):
    services.escalate_to_vendor(ticket=ticket_a, vendor=vendor, reason="b", by=alice)

    body = ApiClient(bob).get(f"/tickets/{ticket_a.number}").json()

    assert body["level"] == "L1"
    assert body["escalations"] == []


def test_a_page_of_tickets_reads_escalations_in_one_query(api_alice, alice, bob, vendor):
    for _ in range(3):
        services.escalate_to_vendor(
            ticket=make_ticket(requester=bob), vendor=vendor, reason="b", by=alice
        )
    api_alice.get("/tickets")  # warm: token, configuration

    with CaptureQueriesContext(connection) as one:
        small = api_alice.get("/tickets", {"limit": 1, "ordering": "number"})
    with CaptureQueriesContext(connection) as three:
        large = api_alice.get("/tickets", {"limit": 3, "ordering": "number"})

    assert [len(t["escalations"]) for t in large.json()["items"]] == [1, 1, 1]
    assert len(small.json()["items"]) == 1
    assert len(three.captured_queries) == len(one.captured_queries)
    escalation_reads = [q for q in three.captured_queries if "escalation_escalation" in q["sql"]]
    assert len(escalation_reads) == 1


def test_the_new_events_reach_the_webhooks(ticket_a, alice, vendor):
    hook = Webhook.objects.create(
        url="https://hooks.example/x",
        events=["ticket.updated"],
        secret=webhooks.new_secret(),
        created_at=MONDAY_9,
    )
    with time_machine.travel(MONDAY_9, tick=False):
        escalation = services.escalate_to_vendor(
            ticket=ticket_a,
            vendor=vendor,
            reason="b",
            by=alice,
            promised_by=MONDAY_9 + timedelta(hours=1),
        )
        services.escalate_internal(ticket=ticket_a, to_level="L2", reason="a", by=alice)
    services.sweep_vendor_promises(now=MONDAY_9 + timedelta(hours=2))
    services.record_vendor_answer(escalation=escalation, at=MONDAY_9 + timedelta(hours=3))
    services.de_escalate(ticket=ticket_a, reason="back", by=alice)

    kinds = [
        event["kind"]
        for delivery in WebhookDelivery.objects.filter(webhook=hook).order_by("pk")
        for event in delivery.payload["data"]["events"]
    ]
    for kind in (
        EventKind.ESCALATED,
        EventKind.VENDOR_OVERDUE,
        EventKind.VENDOR_ANSWER,
        EventKind.DE_ESCALATED,
    ):
        assert kind in kinds
    escalated = next(
        event
        for delivery in WebhookDelivery.objects.filter(webhook=hook)
        for event in delivery.payload["data"]["events"]
        if event["kind"] == "escalated" and event["field"] == "vendor"
    )
    assert escalated["to"]["promised_by"] == "2026-11-16T10:00:00+00:00"
    assert escalated["to"]["notify_customer"] is True
