"""/api/v1/tickets: the contract of issue 6, and every visibility rule through the API."""

import base64
from datetime import datetime, timedelta

import pytest

from servicedesk.accounts.models import EmailDomain, User
from servicedesk.mail.models import OutboxMessage
from servicedesk.tickets.models import Comment, Event, Ticket
from tests.factories import StaffFactory, make_ticket

pytestmark = pytest.mark.django_db

SLA_KEYS = {
    "first_response_due",
    "next_update_due",
    "resolution_due",
    "paused",
    "state",
    "explain",
}


def _when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, value
    return parsed


# -- filing ---------------------------------------------------------------------------------


def test_staff_file_for_a_new_contact_placed_by_their_email_domain(api_alice, org_a):
    EmailDomain.objects.create(organisation=org_a, domain="alpha.example")
    response = api_alice.post(
        "/tickets",
        {
            "subject": "Dynamics plug-in fails on save",
            "description": "Since Monday.",
            "requester_email": "Dora@Alpha.example",
            "requester_name": "Dora",
            "urgency": 3,
            "impact": 4,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    dora = User.objects.get(email="dora@alpha.example")
    assert dora.organisation == org_a and not dora.has_usable_password()
    assert body["requester"] == {"id": dora.pk, "email": "dora@alpha.example", "name": "Dora"}
    assert body["organisation"] == {"id": org_a.pk, "name": org_a.name}
    assert body["status"] == "new" and body["channel"] == "api"
    assert body["score"] == 12 and body["priority"] == "critical"
    assert body["triage"] == {
        "proposed": {"urgency": 3, "impact": 4, "score": 12},
        "confirmed": None,
    }
    assert set(body["sla"]) == SLA_KEYS
    assert _when(body["sla"]["first_response_due"]) > _when(body["created_at"])
    assert body["sla"]["state"] == "ok" and body["sla"]["paused"] is False
    assert body["sla"]["explain"] is None  # only a single read explains
    assert body["reference"] == f"SD-{body['number']}"
    assert response["ETag"]
    ticket = Ticket.objects.get(number=body["number"])
    assert OutboxMessage.objects.filter(ticket=ticket, to=["dora@alpha.example"]).count() == 1


def test_staff_must_name_the_requester(api_alice):
    response = api_alice.post("/tickets", {"subject": "No requester"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_reference"
    assert not Ticket.objects.exists()


def test_a_customer_files_for_itself_whatever_channel_it_claims(api_bob, bob):
    response = api_bob.post("/tickets", {"subject": "Sync stuck", "channel": "phone"})
    assert response.status_code == 201
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert ticket.requester == bob and ticket.channel == "api"
    assert ticket.organisation == bob.organisation


def test_a_customer_cannot_file_for_someone_of_another_organisation(api_bob, charlie):
    response = api_bob.post(
        "/tickets", {"subject": "For charlie", "requester_email": charlie.email}
    )
    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_a_customer_administrator_files_for_a_colleague(api_bob_admin, bob):
    response = api_bob_admin.post(
        "/tickets", {"subject": "For bob", "requester_email": "bob@alpha.example"}
    )
    assert response.status_code == 201
    assert response.json()["requester"]["id"] == bob.pk


@pytest.mark.parametrize(
    "payload",
    [
        {"subject": "x", "urgency": 5, "impact": 1},
        {"subject": "x", "urgency": 0, "impact": 1},
        {"subject": "", "requester_email": "a@b.example"},
        {"subject": "x" * 251, "requester_email": "a@b.example"},
        {"subject": "x", "requester_email": "not-an-address"},
        {"subject": "x", "requester_email": "a@b.example", "urgency": 2},
        {"subject": "x", "requester_email": "a@b.example", "product": 999999},
        {"subject": "x", "requester_email": "a@b.example", "users_affected": -1},
        {"description": "no subject"},
        [],
    ],
)
def test_bad_payloads_get_a_machine_readable_4xx_and_change_nothing(api_alice, payload):
    response = api_alice.post("/tickets", payload)
    assert response.status_code in (400, 422), response.content
    assert response.json()["code"]
    assert not Ticket.objects.exists() and not User.objects.filter(email="a@b.example").exists()


def test_malformed_json_is_a_400_not_a_500(api_alice):
    response = api_alice.post("/tickets", "{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


# -- reading and visibility -------------------------------------------------------------------


def test_each_party_sees_exactly_what_the_portal_shows_them(
    ticket_a, bob, bob_admin, charlie, api_bob, api_bob_admin, api_charlie, api_alice
):
    colleague_ticket = make_ticket(requester=bob_admin)
    b_ticket = make_ticket(requester=charlie)

    def numbers(client):
        return {t["number"] for t in client.get("/tickets").json()["items"]}

    assert numbers(api_alice) == {ticket_a.number, colleague_ticket.number, b_ticket.number}
    assert numbers(api_bob) == {ticket_a.number}
    assert numbers(api_bob_admin) == {ticket_a.number, colleague_ticket.number}
    assert numbers(api_charlie) == {b_ticket.number}
    for path in ("", "/replies", "/links"):
        response = api_charlie.get(f"/tickets/{ticket_a.number}{path}")
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    assert api_charlie.get("/tickets/99999999").json() == api_charlie.get(
        f"/tickets/{ticket_a.number}"
    ).json() | {"message": "No ticket numbered 99999999."}


def test_another_organisations_ticket_cannot_be_changed_and_is_a_404(ticket_a, api_charlie):
    before = Ticket.objects.get(pk=ticket_a.pk)
    moves = [
        ("post", "/replies", {"body": "hello"}),
        ("post", "/status", {"status": "closed"}),
        ("post", "/triage", {"urgency": 4, "impact": 4}),
        ("patch", "", {"subject": "mine now"}),
    ]
    for method, path, body in moves:
        response = api_charlie.send(method, f"/tickets/{ticket_a.number}{path}", body)
        assert response.status_code == 404, (path, response.content)
    after = Ticket.objects.get(pk=ticket_a.pk)
    assert (after.status, after.subject, after.updated_at) == (
        before.status,
        before.subject,
        before.updated_at,
    )
    assert not Comment.objects.filter(ticket=ticket_a).exists()


def test_filters(api_alice, bob, alice):
    old = make_ticket(requester=bob, subject="Old one")
    critical = make_ticket(requester=bob, subject="Outlook sync", urgency=4, impact=4)
    mine = make_ticket(requester=bob, subject="Mine")
    from servicedesk.tickets import services

    services.assign(ticket=mine, assignee=alice, by=alice)
    services.confirm_triage(ticket=old, urgency=1, impact=1, by=alice)  # opens it

    def numbers(**params):
        response = api_alice.get("/tickets", params)
        assert response.status_code == 200, response.content
        return {t["number"] for t in response.json()["items"]}

    assert numbers(status="open") == {old.number}
    assert numbers(status="new,open") == {old.number, critical.number, mine.number}
    assert numbers(priority="critical") == {critical.number}
    assert numbers(assignee="me") == {mine.number}
    assert mine.number not in numbers(assignee="none")
    assert numbers(assignee=str(alice.pk)) == {mine.number}
    assert numbers(q="outlook") == {critical.number}
    assert numbers(q=f"SD-{old.number}") == {old.number}
    assert numbers(organisation=bob.organisation_id) == {old.number, critical.number, mine.number}
    future = (datetime.now().astimezone() + timedelta(days=1)).isoformat()
    assert numbers(updated_since=future) == set()
    bad = api_alice.get("/tickets", {"status": "open,bogus"})
    assert bad.status_code == 422 and "bogus" in bad.json()["message"]
    assert api_alice.get("/tickets", {"ordering": "subject"}).status_code == 422
    assert api_alice.get("/tickets", {"limit": 101}).status_code == 422
    assert api_alice.get("/tickets", {"limit": 0}).status_code == 422


@pytest.mark.parametrize("ordering", ["sla_due", "number", "-number", "created_at", "-updated_at"])
def test_cursor_pagination_walks_every_ticket_once_in_order(api_alice, bob, ordering):
    made = [
        make_ticket(requester=bob, subject=f"T{i}", urgency=1 + i % 4, impact=1 + i % 3)
        for i in range(23)
    ]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 10, "ordering": ordering}
        if cursor:
            params["cursor"] = cursor
        body = api_alice.get("/tickets", params).json()
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    numbers = [t["number"] for t in seen]
    assert sorted(numbers) == sorted(t.number for t in made)
    if ordering == "sla_due":
        dues = [Ticket.objects.get(number=n).sla_due_at for n in numbers]
        assert all(d is not None for d in dues)
        assert dues == sorted(dues)  # the nearest SLA due time first
    elif ordering == "-number":
        assert numbers == sorted(numbers, reverse=True)
    elif ordering == "number":
        assert numbers == sorted(numbers)


def test_a_cursor_from_elsewhere_is_refused(api_alice, ticket_a):
    assert api_alice.get("/tickets", {"cursor": "garbage!"}).status_code == 422
    first = api_alice.get("/tickets", {"limit": 1, "ordering": "number"}).json()
    make_ticket(requester=ticket_a.requester)
    page = api_alice.get("/tickets", {"limit": 1, "ordering": "number"}).json()
    assert page["next_cursor"]
    wrong = api_alice.get("/tickets", {"cursor": page["next_cursor"], "ordering": "-number"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_query"
    assert first["items"][0]["number"] == ticket_a.number


def test_the_list_costs_the_same_few_queries_for_any_page_size(api_alice, bob):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(30):
        make_ticket(requester=bob, subject=f"T{i}", urgency=2, impact=2)
    api_alice.get("/tickets")  # the token's last use is written once a minute at most
    counts = []
    for limit in (5, 25):
        with CaptureQueriesContext(connection) as queries:
            assert len(api_alice.get("/tickets", {"limit": limit}).json()["items"]) == limit
        counts.append(len(queries))
    # token, page ids (with a due time, then without), the page's rows, their clocks
    assert counts[0] == counts[1] <= 5


# -- changing -------------------------------------------------------------------------------


def test_if_match_with_a_stale_etag_is_412_and_changes_nothing(api_alice, ticket_a):
    first = api_alice.get(f"/tickets/{ticket_a.number}")
    tag = first["ETag"]
    changed = api_alice.patch(
        f"/tickets/{ticket_a.number}", {"subject": "Renamed"}, headers={"If-Match": tag}
    )
    assert changed.status_code == 200 and changed.json()["subject"] == "Renamed"
    assert changed["ETag"] != tag
    stale = api_alice.post(
        f"/tickets/{ticket_a.number}/status", {"status": "open"}, headers={"If-Match": tag}
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert Ticket.objects.get(pk=ticket_a.pk).status == "new"
    fresh = api_alice.post(
        f"/tickets/{ticket_a.number}/status",
        {"status": "open"},
        headers={"If-Match": changed["ETag"]},
    )
    assert fresh.status_code == 200 and fresh.json()["status"] == "open"


def test_replies_notes_and_the_thread(api_alice, api_bob, ticket_a, bob):
    note = api_alice.post(
        f"/tickets/{ticket_a.number}/replies", {"body": "Check logs", "internal": True}
    )
    assert note.status_code == 201 and note.json()["internal"] is True
    content = base64.b64encode(b"log line\n").decode()
    reply = api_alice.post(
        f"/tickets/{ticket_a.number}/replies",
        {
            "body": "We found it.",
            "attachments": [
                {"filename": "fix.txt", "content_type": "text/plain", "content_base64": content}
            ],
        },
    )
    assert reply.status_code == 201, reply.content
    attachment = reply.json()["attachments"][0]
    assert attachment["filename"] == "fix.txt" and attachment["size"] == 9
    mailed = OutboxMessage.objects.filter(ticket=ticket_a, to=[bob.email]).order_by("pk").last()
    assert "We found it." in mailed.body_text
    assert not OutboxMessage.objects.filter(body_text__contains="Check logs").exists()
    bobs_view = api_bob.get(f"/tickets/{ticket_a.number}/replies").json()
    assert [r["body"] for r in bobs_view] == ["We found it."]
    desk_view = api_alice.get(f"/tickets/{ticket_a.number}/replies").json()
    assert [r["body"] for r in desk_view] == ["Check logs", "We found it."]
    download = api_bob.get(f"/tickets/{ticket_a.number}/attachments/{attachment['id']}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"log line\n"
    refused = api_bob.post(f"/tickets/{ticket_a.number}/replies", {"body": "x", "internal": True})
    assert refused.status_code == 403
    bad = api_alice.post(
        f"/tickets/{ticket_a.number}/replies",
        {"body": "x", "attachments": [{"filename": "a", "content_base64": "%%%"}]},
    )
    assert bad.status_code == 422
    empty = api_bob.post(f"/tickets/{ticket_a.number}/replies", {"body": "  "})
    assert empty.status_code == 422
    assert Comment.objects.filter(ticket=ticket_a).count() == 2


def test_triage_by_the_desk_sets_score_priority_and_opens(api_alice, api_bob, ticket_a):
    refused = api_bob.post(f"/tickets/{ticket_a.number}/triage", {"urgency": 4, "impact": 4})
    assert refused.status_code == 403
    response = api_alice.post(f"/tickets/{ticket_a.number}/triage", {"urgency": 4, "impact": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["triage"]["confirmed"] == {"urgency": 4, "impact": 3, "score": 12}
    assert body["triage"]["proposed"] == {"urgency": 2, "impact": 2, "score": 4}
    assert body["priority"] == "critical" and body["status"] == "open"
    assert (
        api_alice.post(
            f"/tickets/{ticket_a.number}/triage", {"urgency": 9, "impact": 1}
        ).status_code
        == 422
    )


def test_a_move_the_workflow_forbids_is_409_with_the_reason(api_alice, api_bob, ticket_a):
    response = api_bob.post(f"/tickets/{ticket_a.number}/status", {"status": "in_progress"})
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert "support desk" in response.json()["message"]
    unknown = api_alice.post(f"/tickets/{ticket_a.number}/status", {"status": "paused"})
    assert unknown.status_code == 422
    moved = api_alice.post(f"/tickets/{ticket_a.number}/status", {"status": "waiting_on_customer"})
    assert moved.status_code == 200
    assert moved.json()["sla"]["paused"] is True
    assert Ticket.objects.get(pk=ticket_a.pk).status == "waiting_on_customer"


def test_assignment_and_group_moves(api_alice, api_bob, ticket_a, alice, bob):
    from servicedesk.accounts.models import Group

    level2 = Group.objects.get(level="L2")
    colleague = StaffFactory()
    response = api_alice.post(
        f"/tickets/{ticket_a.number}/assignment", {"assignee": colleague.pk, "group": level2.pk}
    )
    assert response.status_code == 200
    assert response.json()["assignee"]["id"] == colleague.pk
    assert response.json()["group"]["id"] == level2.pk
    to_customer = api_alice.post(f"/tickets/{ticket_a.number}/assignment", {"assignee": bob.pk})
    assert to_customer.status_code == 422
    back = api_alice.post(f"/tickets/{ticket_a.number}/assignment", {"assignee": None})
    assert back.status_code == 200 and back.json()["assignee"] is None
    assert (
        api_bob.post(f"/tickets/{ticket_a.number}/assignment", {"assignee": alice.pk}).status_code
        == 404
    )
    assert Event.objects.filter(ticket=ticket_a, kind="assignee").count() == 2


def test_links(api_alice, api_bob, api_charlie, ticket_a, bob, charlie):
    other = make_ticket(requester=bob)
    far = make_ticket(requester=charlie)
    made = api_alice.post(
        f"/tickets/{ticket_a.number}/links", {"ticket": other.number, "kind": "related"}
    )
    assert made.status_code == 201
    assert made.json()["ticket"] == other.number and made.json()["direction"] == "outgoing"
    again = api_alice.post(
        f"/tickets/{ticket_a.number}/links", {"ticket": other.number, "kind": "related"}
    )
    assert again.status_code == 422
    assert [link["ticket"] for link in api_bob.get(f"/tickets/{other.number}/links").json()] == [
        ticket_a.number
    ]
    assert (
        api_bob.post(
            f"/tickets/{ticket_a.number}/links", {"ticket": other.number, "kind": "duplicate_of"}
        ).status_code
        == 404
    )
    api_alice.post(f"/tickets/{far.number}/links", {"ticket": ticket_a.number, "kind": "related"})
    assert api_charlie.get(f"/tickets/{far.number}/links").json() == []  # A's side stays hidden
    link_id = made.json()["id"]
    assert api_alice.delete(f"/tickets/{ticket_a.number}/links/{link_id}").status_code == 204
    assert api_alice.delete(f"/tickets/{ticket_a.number}/links/{link_id}").status_code == 404


# -- what the fuzzer found ------------------------------------------------------------------


def test_null_clears_a_text_field(api_alice, ticket_a):
    response = api_alice.patch(f"/tickets/{ticket_a.number}", {"business_impact": None})
    assert response.status_code == 200 and response.json()["business_impact"] == ""


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/tickets", {"subject": "a\u0000b", "requester_email": "n@u.example"}),
        ("post", "/organisations", {"name": "Nul\u0000Ltd"}),
        ("get", "/tickets?q=a%00b", None),
    ],
)
def test_nul_characters_are_refused_with_422(api_admin, method, path, body):
    response = api_admin.get(path) if method == "get" else api_admin.post(path, body)
    assert response.status_code == 422 and "NUL" in response.json()["message"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("param", ["group", "organisation", "product", "assignee"])
def test_ids_too_large_for_any_database_are_422(api_alice, param):
    response = api_alice.get("/tickets", {param: "99999999999999999999"})
    assert response.status_code == 422
