"""/api/v1/changes and /api/v1/tickets/{number}/convert-to-change: the contract of issue 16
(item 7), every refusal a clear 4xx that changes nothing, and no CR of another organisation
seen, found or touched."""

import pytest

from servicedesk.accounts.models import CustomerRole
from servicedesk.changes import services
from servicedesk.changes.models import ChangeEvent, ChangeRequest, PlanStep
from servicedesk.tickets.models import Event, EventKind, Ticket
from tests.api.conftest import ApiClient
from tests.changes.factories import approved, assessed, awaiting_approval, make_change
from tests.factories import CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db

CONTRACT = {
    "number",
    "stage",
    "ticket",
    "organisation",
    "requested_at",
    "requested_by",
    "description",
    "chargeable",
    "effort_hours",
    "urgent",
    "approval",
}
RECORD = {
    "reference",
    "title",
    "product",
    "scope",
    "owner",
    "vendor",
    "feasibility",
    "impact",
    "risk",
    "resources",
    "approval_round",
    "approval_requested_at",
    "scheduled_for",
    "test_outcome",
    "kpis_met",
    "lessons_learned",
    "plan",
    "allowed_moves",
    "updated_at",
    "closed_at",
}


@pytest.fixture
def change(bob, alice):
    """A CR of organisation A requested by bob."""
    return make_change(requester=bob, by=alice)


@pytest.fixture
def api_logger_a(org_a):
    return ApiClient(
        CustomerFactory(email="logger@alpha.example", organisation=org_a, customer_role="logger")
    )


@pytest.fixture
def api_admin_b(org_b):
    return ApiClient(
        CustomerFactory(
            email="admin@bravo.example",
            organisation=org_b,
            customer_role=CustomerRole.CUSTOMER_ADMIN,
        )
    )


def state(change):
    """What a refused request must leave as it was."""
    row = ChangeRequest.objects.get(pk=change.pk)
    fields = {f.attname: getattr(row, f.attname) for f in ChangeRequest._meta.concrete_fields}
    return (
        fields,
        ChangeEvent.objects.filter(change=change).count(),
        list(PlanStep.objects.filter(change=change).values_list("description", flat=True)),
    )


# -- opening ----------------------------------------------------------------------------------


def test_staff_open_a_change_request_for_a_customer(api_alice, bob, org_a):
    answer = api_alice.post(
        "/changes",
        {
            "title": "Contract end field",
            "description": "Sales want it.",
            "organisation": org_a.pk,
            "requester_email": "BOB@alpha.example",
            "scope": "standard",
        },
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert set(body) == CONTRACT | RECORD
    change = ChangeRequest.objects.get(number=body["number"])
    assert body["reference"] == f"CR-{change.number}"
    assert (body["stage"], body["ticket"], body["urgent"]) == ("requested", None, False)
    assert body["organisation"] == {"id": org_a.pk, "name": org_a.name}
    assert body["requested_by"] == {"id": bob.pk, "email": bob.email, "name": "Bob Customer"}
    assert (body["chargeable"], body["effort_hours"], body["approval"]) == (None, None, None)
    assert (body["scope"], body["plan"], body["allowed_moves"]) == ("standard", [], ["assessment"])
    assert answer["ETag"]
    assert change.created_by.email == "alice@desk.example"


def test_a_customer_opens_one_for_their_organisation_in_their_own_name(api_bob, bob):
    answer = api_bob.post(
        "/changes", {"title": "A field", "description": "Please.", "urgent": True}
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["requested_by"]["id"] == bob.pk
    assert body["organisation"]["id"] == bob.organisation_id
    assert body["urgent"] is True
    assert body["allowed_moves"] == [] and body["vendor"] is None  # the desk's business


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "x", "description": "y", "requester_email": "admin@alpha.example"},
        {"title": "x", "description": "y", "requester_email": "nobody@alpha.example"},
        {"title": "x", "description": "y", "organisation": "other"},
    ],
)
def test_a_customer_opens_none_in_anothers_name_or_for_another_organisation(
    api_bob, bob_admin, org_b, payload
):
    if payload.get("organisation") == "other":
        payload = {**payload, "organisation": org_b.pk}

    answer = api_bob.post("/changes", payload)

    assert answer.status_code == 422, answer.content
    assert answer.json()["code"] == "invalid_reference"
    assert not ChangeRequest.objects.exists()


def test_staff_name_the_organisation_and_one_of_its_contacts(api_alice, org_a, org_b, charlie):
    refusals = [
        {"title": "x", "description": "y"},
        {"title": "x", "description": "y", "organisation": org_a.pk},
        {"title": "x", "description": "y", "requester_email": "bob@alpha.example"},
        {
            "title": "x",
            "description": "y",
            "organisation": org_a.pk,
            "requester_email": charlie.email,
        },
        {
            "title": "x",
            "description": "y",
            "organisation": 999999,
            "requester_email": charlie.email,
        },
    ]

    for payload in refusals:
        answer = api_alice.post("/changes", payload)

        assert answer.status_code == 422, (payload, answer.content)
        assert answer.json()["code"] == "invalid_reference"
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "invalid_request"),
        ({"title": "x"}, "invalid_request"),
        ({"title": "", "description": "y"}, "invalid_request"),
        ({"title": "x" * 251, "description": "y"}, "invalid_request"),
        ({"title": "x", "description": "  "}, "invalid_change"),
        ({"title": "x", "description": "y", "scope": "bespoke"}, "invalid_request"),
        ({"title": "x", "description": "y", "product": 999999}, "invalid_reference"),
        ({"title": "x", "description": "y", "urgent": "very"}, "invalid_request"),
        ({"title": "x", "description": "y", "stage": "approved"}, "invalid_request"),
        ([], "invalid_request"),
        ("not json", "invalid_request"),
    ],
)
def test_bad_payloads_get_a_clear_4xx_and_open_nothing(api_bob, payload, code):
    answer = api_bob.post("/changes", payload)

    assert answer.status_code in (400, 422), answer.content
    assert answer.json()["code"] in (code, "bad_request") and answer.json()["message"]
    assert not ChangeRequest.objects.exists()


# -- converting a ticket ----------------------------------------------------------------------


def test_staff_convert_a_ticket_by_its_reference(api_alice, ticket_a):
    answer = api_alice.post(
        f"/tickets/{ticket_a.reference}/convert-to-change",
        {"scope": "standard", "reason": "A new field."},
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["ticket"] == ticket_a.number
    assert body["title"] == ticket_a.subject
    assert body["description"].endswith("A new field.")
    ticket = Ticket.objects.get(pk=ticket_a.pk)
    assert ticket.status == "closed"
    assert Event.objects.get(ticket=ticket, kind=EventKind.CONVERTED).new == {
        "number": body["number"],
        "reference": body["reference"],
    }


def test_a_ticket_converts_with_an_empty_body(api_alice, ticket_a):
    answer = api_alice.post(f"/tickets/{ticket_a.number}/convert-to-change", {})

    assert answer.status_code == 201, answer.content
    assert answer.json()["scope"] == "customisation"


def test_a_ticket_converts_once(api_alice, ticket_a):
    api_alice.post(f"/tickets/{ticket_a.number}/convert-to-change", {})

    again = api_alice.post(f"/tickets/{ticket_a.number}/convert-to-change", {})

    assert again.status_code == 422
    assert again.json()["code"] == "invalid_change"
    assert ChangeRequest.objects.count() == 1


def test_customers_do_not_convert_tickets(api_bob, api_charlie, ticket_a):
    seen = api_bob.post(f"/tickets/{ticket_a.number}/convert-to-change", {})
    unseen = api_charlie.post(f"/tickets/{ticket_a.number}/convert-to-change", {})

    assert seen.status_code == 403 and seen.json()["code"] == "forbidden"
    assert unseen.status_code == 404
    assert not ChangeRequest.objects.exists()
    assert Ticket.objects.get(pk=ticket_a.pk).status == "new"


def test_converting_checks_the_tickets_etag(api_alice, ticket_a):
    answer = api_alice.post(
        f"/tickets/{ticket_a.number}/convert-to-change", {}, headers={"If-Match": '"stale"'}
    )

    assert answer.status_code == 412
    assert not ChangeRequest.objects.exists()


# -- reading and listing ----------------------------------------------------------------------


def test_a_change_is_read_by_number_or_reference(api_bob, change):
    by_number = api_bob.get(f"/changes/{change.number}")
    by_reference = api_bob.get(f"/changes/{change.reference}")

    assert by_number.status_code == by_reference.status_code == 200
    assert by_number.json() == by_reference.json()
    assert by_number["ETag"] == by_reference["ETag"]


@pytest.mark.parametrize("name", ["99999999", "CR-99999999", "SD-1", "abc", "CR-0"])
def test_what_names_no_change_is_a_404(api_alice, name):
    answer = api_alice.get(f"/changes/{name}")

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_each_party_lists_what_it_may_see(
    api_alice, api_bob, api_bob_admin, api_charlie, alice, bob, bob_admin, charlie
):
    mine = make_change(requester=bob, by=alice)
    colleagues = make_change(requester=bob_admin)
    others = make_change(requester=charlie)

    def numbers(client):
        answer = client.get("/changes")
        assert answer.status_code == 200, answer.content
        return {c["number"] for c in answer.json()["items"]}

    assert numbers(api_alice) == {mine.number, colleagues.number, others.number}
    assert numbers(api_bob) == {mine.number}  # an end user: their own
    assert numbers(api_bob_admin) == {mine.number, colleagues.number}
    assert numbers(api_charlie) == {others.number}


def test_filters(api_alice, alice, bob, bob_admin, charlie):
    requested = make_change(requester=bob, by=alice)
    urgent = make_change(requester=bob, by=alice, urgent=True)
    waiting = awaiting_approval(make_change(requester=bob, by=alice), by=alice)
    services.update_change(change=waiting, by=alice, assignee=alice)
    done = approved(make_change(requester=bob, by=alice), by=alice, administrator=bob_admin)
    other = make_change(requester=charlie)

    def numbers(**params):
        answer = api_alice.get("/changes", params)
        assert answer.status_code == 200, answer.content
        return {c["number"] for c in answer.json()["items"]}

    assert numbers(stage="requested") == {requested.number, urgent.number, other.number}
    assert numbers(stage="awaiting_approval,approved") == {waiting.number, done.number}
    assert numbers(organisation=charlie.organisation_id) == {other.number}
    assert numbers(urgent="true") == {urgent.number}
    assert urgent.number not in numbers(urgent="false")
    assert numbers(owner="me") == numbers(owner=str(alice.pk)) == {waiting.number}
    assert waiting.number not in numbers(owner="none")
    for params in (
        {"stage": "requested,bogus"},
        {"ordering": "title"},
        {"owner": "someone"},
        {"owner": "١٢"},
        {"cursor": "bm90IGEgY3Vyc29y"},
        {"urgent": "very"},
        {"limit": 0},
        {"limit": 101},
    ):
        answer = api_alice.get("/changes", params)
        assert answer.status_code == 422, params
        assert answer.json()["code"] in ("invalid_query", "invalid_request")


@pytest.mark.parametrize(
    "ordering", ["-requested_at", "requested_at", "-updated_at", "updated_at", "-number", "number"]
)
def test_pages_follow_each_other_without_gaps_or_repeats(api_alice, alice, bob, ordering):
    made = [make_change(requester=bob, by=alice) for _ in range(5)]
    services.update_change(change=made[2], by=alice, risk="Low")  # another updated_at

    seen, cursor = [], None
    while True:
        params = {"limit": 2, "ordering": ordering} | ({"cursor": cursor} if cursor else {})
        answer = api_alice.get("/changes", params)
        assert answer.status_code == 200, answer.content
        seen += [c["number"] for c in answer.json()["items"]]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(c.number for c in made) and len(seen) == 5
    expected = [
        c["number"] for c in api_alice.get("/changes", {"ordering": ordering}).json()["items"]
    ]
    assert seen == expected


def test_a_cursor_of_another_ordering_is_refused(api_alice, alice, bob):
    for _ in range(3):
        make_change(requester=bob, by=alice)
    cursor = api_alice.get("/changes", {"limit": 1}).json()["next_cursor"]

    answer = api_alice.get("/changes", {"cursor": cursor, "ordering": "number"})

    assert answer.status_code == 422 and answer.json()["code"] == "invalid_query"


def test_a_list_reads_a_fixed_number_of_queries(
    api_alice, alice, bob, django_assert_max_num_queries
):
    for _ in range(10):
        services.set_plan(
            change=make_change(requester=bob, by=alice), steps=[services.Step("Deploy")], by=alice
        )

    with django_assert_max_num_queries(4):
        answer = api_alice.get("/changes", {"limit": 100})

    assert len(answer.json()["items"]) == 10
    assert all(c["plan"][0]["description"] == "Deploy" for c in answer.json()["items"])


# -- editing ----------------------------------------------------------------------------------


def test_staff_edit_the_record(api_alice, change):
    owner = StaffFactory(email="owner@desk.example", full_name="Olga Owner")

    answer = api_alice.patch(
        f"/changes/{change.number}",
        {
            "effort_hours": 7.26,
            "chargeable": False,
            "owner": owner.pk,
            "scheduled_for": "2026-12-01",
            "risk": "Low",
            "impact": None,
        },
    )

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["effort_hours"], body["chargeable"], body["risk"], body["impact"]) == (
        7.3,
        False,
        "Low",
        "",
    )
    assert body["owner"] == {"id": owner.pk, "email": owner.email, "name": "Olga Owner"}
    assert body["scheduled_for"] == "2026-12-01"
    assert body["allowed_moves"] == ["assessment"]


def test_an_etag_that_no_longer_matches_changes_nothing(api_alice, change):
    read = api_alice.get(f"/changes/{change.number}")
    api_alice.patch(f"/changes/{change.number}", {"risk": "Low"})
    before = state(change)

    stale = api_alice.patch(
        f"/changes/{change.number}", {"risk": "High"}, headers={"If-Match": read["ETag"]}
    )
    fresh = api_alice.get(f"/changes/{change.number}")
    current = api_alice.patch(
        f"/changes/{change.number}", {"risk": "Medium"}, headers={"If-Match": fresh["ETag"]}
    )

    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert current.status_code == 200
    assert before[0]["risk"] == "Low"


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"effort_hours": -1}, 422),
        ({"effort_hours": "lots"}, 422),
        ({"effort_hours": 1_000_000}, 422),
        ({"title": ""}, 422),
        ({"title": None}, 422),
        ({"description": None}, 422),
        ({"scope": "bespoke"}, 422),
        ({"scope": None}, 422),
        ({"owner": 999999}, 422),
        ({"product": 999999}, 422),
        ({"vendor": 999999}, 422),
        ({"stage": "closed"}, 422),
        ({"decision": "approved"}, 422),
        ({"effort": 3}, 422),
        ({"scheduled_for": "next week"}, 422),
        ([], 422),
    ],
)
def test_bad_edits_get_a_clear_4xx_and_change_nothing(api_alice, change, payload, status):
    before = state(change)

    answer = api_alice.patch(f"/changes/{change.number}", payload)

    assert answer.status_code == status, answer.content
    assert answer.json()["code"] and answer.json()["message"]
    assert state(change) == before


def test_the_owner_is_a_desk_agent(api_alice, change, bob):
    before = state(change)

    answer = api_alice.patch(f"/changes/{change.number}", {"owner": bob.pk})

    assert answer.status_code == 422 and answer.json()["code"] == "invalid_change"
    assert state(change) == before


def test_customers_do_not_edit_the_record(api_bob, api_bob_admin, change, bob):
    before = state(change)

    for client in (api_bob, api_bob_admin):
        for payload in ({"risk": "None"}, {"owner": bob.pk}, {"product": 999999}):
            answer = client.patch(f"/changes/{change.number}", payload)

            assert answer.status_code == 403, answer.content
            assert answer.json()["code"] == "forbidden"
    assert state(change) == before


def test_the_estimate_does_not_change_while_the_administrator_decides(api_alice, alice, change):
    awaiting_approval(change, by=alice)
    before = state(change)

    answer = api_alice.patch(f"/changes/{change.number}", {"effort_hours": 40})

    assert answer.status_code == 409 and answer.json()["code"] == "stage_not_allowed"
    assert "back to assessment" in answer.json()["message"]
    assert state(change) == before


# -- the plan ---------------------------------------------------------------------------------


def test_staff_set_the_plan(api_alice, change):
    answer = api_alice.send(
        "put",
        f"/changes/{change.number}/plan",
        [
            {
                "description": "Back up",
                "due_on": "2026-12-01",
                "responsible": "Alice",
                "done": True,
            },
            {"description": "Deploy"},
        ],
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["plan"] == [
        {
            "position": 1,
            "description": "Back up",
            "due_on": "2026-12-01",
            "responsible": "Alice",
            "done": True,
        },
        {"position": 2, "description": "Deploy", "due_on": None, "responsible": "", "done": False},
    ]
    cleared = api_alice.send("put", f"/changes/{change.number}/plan", [])
    assert cleared.status_code == 200 and cleared.json()["plan"] == []


@pytest.mark.parametrize(
    "payload",
    [
        [{"description": ""}],
        [{"description": "Deploy", "responsible": "x" * 201}],
        [{"description": "Deploy", "due_on": "soon"}],
        [{"description": "Deploy", "owner": "me"}],
        [{"description": f"Step {n}"} for n in range(101)],
        {"steps": [{"description": "Deploy"}]},
        [{"description": "   "}],
    ],
    ids=["empty", "long responsible", "bad date", "unknown field", "101 steps", "object", "blank"],
)
def test_a_bad_plan_is_refused_whole(api_alice, alice, change, payload):
    services.set_plan(change=change, steps=[services.Step("Kept")], by=alice)
    before = state(change)

    answer = api_alice.send("put", f"/changes/{change.number}/plan", payload)

    assert answer.status_code == 422, answer.content
    assert state(change) == before


def test_customers_do_not_plan(api_bob_admin, change):
    answer = api_bob_admin.send("put", f"/changes/{change.number}/plan", [{"description": "Mine"}])

    assert answer.status_code == 403
    assert not PlanStep.objects.filter(change=change).exists()


# -- stages and the decision ------------------------------------------------------------------


def test_a_whole_life_through_the_api(api_alice, api_bob_admin, bob_admin, change):
    path = f"/changes/{change.number}"

    def move(to, client=api_alice):
        return client.post(f"{path}/stage", {"stage": to})

    assert move("assessment").status_code == 200
    gate = move("awaiting_approval")
    assert gate.status_code == 409 and gate.json()["code"] == "stage_not_allowed"
    assert "effort estimate" in gate.json()["message"]
    api_alice.patch(path, {"effort_hours": 8, "chargeable": True})
    asked = move("awaiting_approval").json()
    assert (asked["stage"], asked["approval_round"], asked["allowed_moves"]) == (
        "awaiting_approval",
        1,
        ["assessment"],
    )
    assert move("approved").status_code == 409  # the administrator's, not the desk's
    decided = api_bob_admin.post(
        f"{path}/approval", {"approved": True, "comment": "Go", "approval_round": 1}
    )
    assert decided.status_code == 200, decided.content
    approval = decided.json()["approval"]
    assert approval["decision"] == "approved" and approval["comment"] == "Go"
    assert approval["by"] == {
        "id": bob_admin.pk,
        "email": bob_admin.email,
        "name": bob_admin.display_name,
    }
    assert approval["at"]
    assert move("testing").status_code == 200
    assert move("implementation").status_code == 200
    assert move("review").status_code == 200
    refused = move("closed")
    assert refused.status_code == 409 and "review" in refused.json()["message"]
    api_alice.patch(path, {"kpis_met": True, "lessons_learned": "Test early"})
    closed = move("closed").json()
    assert closed["stage"] == "closed" and closed["closed_at"]
    assert closed["allowed_moves"] == []


@pytest.mark.parametrize(
    "payload",
    [
        {"stage": "done"},
        {},
        {"stage": "closed", "reason": "x" * 2001},
        {"stage": "assessment", "why": "x"},
    ],
)
def test_a_bad_stage_payload_is_a_422_that_moves_nothing(api_alice, change, payload):
    before = state(change)

    answer = api_alice.post(f"/changes/{change.number}/stage", payload)

    assert answer.status_code == 422
    assert state(change) == before


def test_customers_do_not_move_stages(api_bob_admin, api_bob, change):
    before = state(change)

    for client in (api_bob, api_bob_admin):
        answer = client.post(f"/changes/{change.number}/stage", {"stage": "assessment"})

        assert answer.status_code == 403 and answer.json()["code"] == "forbidden"
    assert state(change) == before


def test_only_the_organisations_administrator_decides(
    api_alice, api_bob, api_logger_a, api_admin_b, api_charlie, alice, change
):
    awaiting_approval(change, by=alice)
    before = state(change)

    for client, status in (
        (api_alice, 403),  # staff do not decide on the customer's behalf
        (api_bob, 403),
        (api_logger_a, 403),
        (api_admin_b, 404),
        (api_charlie, 404),
    ):
        answer = client.post(f"/changes/{change.number}/approval", {"approved": True})

        assert answer.status_code == status, answer.content
    assert state(change) == before


def test_a_decision_is_taken_once_and_for_its_round(api_bob_admin, alice, change):
    awaiting_approval(change, by=alice)
    path = f"/changes/{change.number}/approval"

    stale = api_bob_admin.post(path, {"approved": True, "approval_round": 0})
    first = api_bob_admin.post(path, {"approved": False, "comment": "Too dear"})
    second = api_bob_admin.post(path, {"approved": True})

    assert stale.status_code == 409 and second.status_code == 409
    assert second.json()["code"] == "stage_not_allowed"
    assert first.status_code == 200
    body = first.json()
    assert body["stage"] == "unapproved"
    assert body["approval"]["decision"] == "unapproved"
    assert body["approval"]["comment"] == "Too dear"


def test_unapproved_is_resubmitted_in_a_new_round(api_alice, api_bob_admin, alice, change):
    awaiting_approval(change, by=alice)
    api_bob_admin.post(f"/changes/{change.number}/approval", {"approved": False})

    again = api_alice.post(f"/changes/{change.number}/stage", {"stage": "awaiting_approval"})
    approval = api_bob_admin.post(
        f"/changes/{change.number}/approval", {"approved": True, "approval_round": 2}
    )

    assert again.status_code == 200
    assert (again.json()["approval_round"], again.json()["approval"]) == (2, None)
    assert approval.status_code == 200 and approval.json()["stage"] == "approved"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"approved": "maybe"},
        {"approved": True, "comment": "x" * 5001},
        {"approved": True, "round": 1},
    ],
)
def test_a_bad_decision_payload_is_a_422_that_decides_nothing(
    api_bob_admin, alice, change, payload
):
    awaiting_approval(change, by=alice)
    before = state(change)

    answer = api_bob_admin.post(f"/changes/{change.number}/approval", payload)

    assert answer.status_code == 422
    assert state(change) == before


def test_the_requester_marks_it_urgent(api_bob, change):
    first = api_bob.post(f"/changes/{change.number}/urgent")
    again = api_bob.post(f"/changes/{change.number}/urgent")

    assert first.status_code == again.status_code == 200
    assert again.json()["urgent"] is True
    assert ChangeEvent.objects.filter(change=change, kind="change_urgent").count() == 1


def test_an_approved_change_is_not_marked_urgent(api_bob, alice, bob_admin, change):
    approved(change, by=alice, administrator=bob_admin)
    before = state(change)

    answer = api_bob.post(f"/changes/{change.number}/urgent")

    assert answer.status_code == 409
    assert state(change) == before


# -- another organisation ---------------------------------------------------------------------


def test_another_organisations_change_is_a_404_everywhere_and_changes_nothing(
    api_charlie, api_admin_b, alice, change, org_a
):
    assessed(change, by=alice)
    before = state(change)
    missing = 99999999
    calls = [
        ("get", "", None),
        ("patch", "", {"risk": "Mine now"}),
        ("put", "/plan", [{"description": "Mine"}]),
        ("post", "/stage", {"stage": "awaiting_approval"}),
        ("post", "/approval", {"approved": True}),
        ("post", "/urgent", None),
    ]

    for client in (api_charlie, api_admin_b):
        for method, suffix, body in calls:
            for name in (change.number, change.reference):
                if method == "get":
                    seen = client.get(f"/changes/{name}{suffix}")
                    nobodys = client.get(f"/changes/{missing}{suffix}")
                else:
                    seen = client.send(method, f"/changes/{name}{suffix}", body)
                    nobodys = client.send(method, f"/changes/{missing}{suffix}", body)

                assert seen.status_code == 404, (method, suffix, seen.content)
                assert seen.json() == nobodys.json()  # nothing tells the two apart
        listed = client.get("/changes", {"organisation": org_a.pk})
        assert listed.status_code == 200 and listed.json()["items"] == []
        opened = client.post(
            "/changes", {"title": "x", "description": "y", "organisation": org_a.pk}
        )
        assert opened.status_code == 422
        assert opened.json()["code"] == "invalid_reference"
    assert state(change) == before
    assert ChangeRequest.objects.count() == 1


def test_an_end_user_does_not_see_a_colleagues_change(api_bob, bob_admin):
    colleagues = make_change(requester=bob_admin)

    answer = api_bob.get(f"/changes/{colleagues.number}")

    assert answer.status_code == 404
    assert api_bob.post(f"/changes/{colleagues.number}/urgent").status_code == 404


def test_without_a_token_nothing_is_answered(change):
    anonymous = ApiClient()

    assert anonymous.get("/changes").status_code == 401
    assert anonymous.get(f"/changes/{change.number}").status_code == 401
    assert anonymous.post(f"/changes/{change.number}/urgent").status_code == 401
    assert ChangeRequest.objects.get(pk=change.pk).urgent is False
