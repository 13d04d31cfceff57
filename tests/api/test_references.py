"""One identifier: every path and body that names a ticket takes ``10064`` and ``SD-10064``
(with the configured prefix); one that names no ticket is a 404 like a ticket the caller cannot
see; answers carry ``reference`` beside ``number``."""

import base64
from urllib.parse import quote

import pytest

from servicedesk.tickets.models import Comment, Ticket, TicketLink
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def _forms(number: int, prefix: str = "SD") -> list[str]:
    """The ways people write ticket ``number``, as they go into a URL."""
    return [
        str(number),
        f"{prefix}-{number}",
        f"{prefix.lower()}-{number}",
        quote(f"[{prefix}#{number}]", safe=""),
        quote(f"#{number}", safe=""),
    ]


def _upload(text: bytes) -> dict:
    return {
        "filename": "log.txt",
        "content_type": "text/plain",
        "content_base64": base64.b64encode(text).decode(),
    }


@pytest.mark.parametrize("form", range(5))
def test_every_path_takes_every_form_of_the_reference(api_alice, alice, bob, form):
    ticket = make_ticket(requester=bob, urgency=2, impact=2)
    other = make_ticket(requester=bob)
    name = _forms(ticket.number)[form]
    base = f"/tickets/{name}"

    read = api_alice.get(base)
    assert read.status_code == 200, read.content
    assert read.json()["number"] == ticket.number
    assert read.json()["reference"] == f"SD-{ticket.number}"

    edited = api_alice.patch(base, {"business_impact": "Sales team blocked"})
    assert edited.status_code == 200, edited.content
    assert edited.json()["reference"] == f"SD-{ticket.number}"

    reply = api_alice.post(f"{base}/replies", {"body": "Logs?", "attachments": [_upload(b"x")]})
    assert reply.status_code == 201, reply.content
    assert [r["body"] for r in api_alice.get(f"{base}/replies").json()] == ["Logs?"]
    attachment = reply.json()["attachments"][0]["id"]
    assert api_alice.get(f"{base}/attachments/{attachment}").status_code == 200

    triaged = api_alice.post(f"{base}/triage", {"urgency": 3, "impact": 3})
    assert triaged.status_code == 200 and triaged.json()["score"] == 9
    moved = api_alice.post(f"{base}/status", {"status": "in_progress"})
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"
    assigned = api_alice.post(f"{base}/assignment", {"assignee": alice.pk})
    assert assigned.status_code == 200 and assigned.json()["assignee"]["id"] == alice.pk

    # the other ticket in a body, in the same form
    link = api_alice.post(
        f"{base}/links", {"ticket": _unquoted(other.number, form), "kind": "related"}
    )
    assert link.status_code == 201, link.content
    assert link.json()["ticket"] == other.number
    assert link.json()["reference"] == f"SD-{other.number}"
    assert [x["reference"] for x in api_alice.get(f"{base}/links").json()] == [f"SD-{other.number}"]
    assert api_alice.delete(f"{base}/links/{link.json()['id']}").status_code == 204
    assert not TicketLink.objects.exists()


def _unquoted(number: int, form: int):
    """The same form as it goes into a JSON body (the number itself for the plain form)."""
    return [number, f"SD-{number}", f"sd-{number}", f"[SD#{number}]", f"#{number}"][form]


NO_TICKET = [
    "XX-1",
    "SD-abc",
    "HD-10001",  # another prefix than the configured one
    "0",
    "-10001",
    "SD--10001",
    "10001abc",
    "99999999999999999999",  # more digits than any column holds: no 500 on PostgreSQL
    "SD-99999999999999999999",
    quote("SD#", safe=""),
]

# every operation on one ticket, with a body that would be accepted for a real one
OPERATIONS = [
    ("get", "", None),
    ("patch", "", {"subject": "Renamed"}),
    ("get", "/replies", None),
    ("post", "/replies", {"body": "hello"}),
    ("get", "/attachments/1", None),
    ("post", "/triage", {"urgency": 2, "impact": 2}),
    ("post", "/status", {"status": "open"}),
    ("post", "/assignment", {"assignee": None}),
    ("get", "/links", None),
    ("post", "/links", {"ticket": 10001, "kind": "related"}),
    ("delete", "/links/1", None),
]


def _call(client, method, path, body):
    if method in ("get", "delete"):
        return getattr(client, method)(path)
    return client.send(method, path, body)


@pytest.mark.parametrize("name", NO_TICKET)
@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_what_names_no_ticket_is_404_on_every_path(api_alice, ticket_a, name, method, path, body):
    assert ticket_a.number == 10001  # so every name above would be close to a real one
    before = Ticket.objects.get(pk=ticket_a.pk)

    response = _call(api_alice, method, f"/tickets/{name}{path}", body)

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    after = Ticket.objects.get(pk=ticket_a.pk)
    assert (after.subject, after.status, after.updated_at) == (
        before.subject,
        before.status,
        before.updated_at,
    )
    assert not Comment.objects.exists()


def test_a_reference_to_a_ticket_the_caller_cannot_see_is_the_same_404(ticket_a, api_charlie):
    hidden = api_charlie.get(f"/tickets/SD-{ticket_a.number}")
    garbage = api_charlie.get("/tickets/SD-abc")
    assert hidden.status_code == garbage.status_code == 404
    assert hidden.json()["code"] == garbage.json()["code"] == "not_found"


@pytest.mark.parametrize("name", ["XX-1", "SD-abc", "0", -1, 99999999999999999999, "", "HD-1"])
def test_a_link_to_what_names_no_ticket_is_404_and_links_nothing(api_alice, ticket_a, name):
    response = api_alice.post(
        f"/tickets/{ticket_a.number}/links", {"ticket": name, "kind": "related"}
    )
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert not TicketLink.objects.exists()


@pytest.mark.parametrize("name", [True, 1.0, None, ["SD-1"], "x" * 65])
def test_a_link_target_of_another_type_is_422(api_alice, ticket_a, name):
    response = api_alice.post(
        f"/tickets/{ticket_a.number}/links", {"ticket": name, "kind": "related"}
    )
    assert response.status_code == 422, response.content


def test_the_configured_prefix_is_the_one_the_api_reads_and_writes(settings, api_alice, bob):
    settings.SERVICEDESK_TICKET_PREFIX = "HD"
    ticket = make_ticket(requester=bob)
    other = make_ticket(requester=bob)

    for name in _forms(ticket.number, "HD"):
        response = api_alice.get(f"/tickets/{name}")
        assert response.status_code == 200, (name, response.content)
        assert response.json()["reference"] == f"HD-{ticket.number}"
    assert api_alice.get(f"/tickets/SD-{ticket.number}").status_code == 404
    link = api_alice.post(
        f"/tickets/HD-{ticket.number}/links", {"ticket": f"HD-{other.number}", "kind": "related"}
    )
    assert link.status_code == 201 and link.json()["reference"] == f"HD-{other.number}"
    assert (
        api_alice.post(
            f"/tickets/HD-{ticket.number}/links",
            {"ticket": f"SD-{other.number}", "kind": "duplicate_of"},
        ).status_code
        == 404
    )
    listed = api_alice.get("/tickets", {"q": f"hd-{ticket.number}"}).json()["items"]
    assert [t["reference"] for t in listed] == [f"HD-{ticket.number}"]


@pytest.mark.parametrize("form", range(5))
def test_the_list_finds_a_ticket_by_any_form_of_its_reference(api_alice, bob, form):
    ticket = make_ticket(requester=bob, subject="Outlook sync")
    make_ticket(requester=bob, subject="Something else")
    q = _unquoted(ticket.number, form)

    items = api_alice.get("/tickets", {"q": str(q)}).json()["items"]

    assert [t["number"] for t in items] == [ticket.number]
    assert items[0]["reference"] == f"SD-{ticket.number}"


def test_words_that_are_no_reference_search_the_subject(api_alice, bob):
    ticket = make_ticket(requester=bob, subject="Error XX-1 on SD-abc export")
    make_ticket(requester=bob, subject="Outlook sync")

    for q in ("XX-1", "SD-abc", "xx-1 on sd"):
        items = api_alice.get("/tickets", {"q": q}).json()["items"]
        assert [t["number"] for t in items] == [ticket.number], q
