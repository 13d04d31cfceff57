"""Issue 12: no input answers 500. Bad input gets a 4xx with the API's JSON ``Error`` and
changes nothing, and a customer cannot tell from a refusal what exists beyond their view."""

import base64
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile

from servicedesk.accounts.models import User
from servicedesk.tickets import services
from servicedesk.tickets.models import Attachment, Comment, Ticket
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# UTC cannot hold these instants: a year 0 and a year 10000 once converted.
OUT_OF_RANGE = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


def _cursor(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def _is_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] and body["message"]
    return body


@pytest.fixture
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# -- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize("since", OUT_OF_RANGE)
def test_an_updated_since_out_of_range_is_422_naming_the_parameter(api_alice, ticket_a, since):
    response = api_alice.get("/tickets", {"updated_since": since})

    body = _is_error(response, 422)
    assert body["errors"][0]["loc"] == ["query", "updated_since"]


@pytest.mark.parametrize(
    ("zone", "since"),
    [("Etc/GMT-14", "0001-01-01T00:00:00"), ("Etc/GMT+12", "9999-12-31T23:59:59")],
)
def test_a_naive_updated_since_out_of_range_in_the_default_zone_is_422(
    api_alice, ticket_a, settings, zone, since
):
    settings.TIME_ZONE = zone

    response = api_alice.get("/tickets", {"updated_since": since})

    assert _is_error(response, 422)["errors"][0]["loc"] == ["query", "updated_since"]


def test_a_naive_updated_since_is_read_in_the_default_zone(api_alice, ticket_a, settings):
    settings.TIME_ZONE = "Etc/GMT-14"
    created = ticket_a.updated_at.astimezone(ZoneInfo("Etc/GMT-14")).replace(tzinfo=None)

    before = api_alice.get("/tickets", {"updated_since": created.isoformat()})
    after = api_alice.get(
        "/tickets", {"updated_since": (created + timedelta(seconds=1)).isoformat()}
    )

    assert [t["number"] for t in before.json()["items"]] == [ticket_a.number]
    assert after.status_code == 200 and after.json()["items"] == []


def test_an_updated_since_at_the_edges_of_the_range_still_lists(api_alice, ticket_a):
    early = api_alice.get("/tickets", {"updated_since": "0001-01-01T00:00:00+00:00"})
    late = api_alice.get("/tickets", {"updated_since": "9999-12-31T23:59:59+00:00"})

    assert [t["number"] for t in early.json()["items"]] == [ticket_a.number]
    assert late.status_code == 200 and late.json()["items"] == []


def test_an_import_dated_out_of_range_is_422_and_imports_nothing(api_admin):
    item = {
        "external_id": "legacy-1",
        "subject": "From the old desk",
        "requester_email": "person@legacy.example",
        "created_at": OUT_OF_RANGE[1],
    }

    _is_error(api_admin.post("/imports/tickets", [item]), 422)

    assert not Ticket.objects.exists()


# -- cursors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ordering", "cursor"),
    [
        *[("updated_at", _cursor("updated_at", when, 1)) for when in OUT_OF_RANGE],
        *[("-created_at", _cursor("-created_at", when, 1)) for when in OUT_OF_RANGE],
        *[("sla_due", _cursor("sla_due", when, 1)) for when in OUT_OF_RANGE],
        ("updated_at", _cursor("updated_at", None, 1)),
        ("-created_at", _cursor("-created_at", None, 1)),
        ("updated_at", _cursor("updated_at", "2026-03-02T09:00:00", 1)),  # no time zone
        ("number", _cursor("number", 1, 2**64)),
        ("sla_due", _cursor("sla_due", None, 2**64)),
        ("-updated_at", _cursor("-updated_at", "2026-03-02T09:00:00+00:00", -(2**64))),
    ],
)
def test_a_cursor_holding_an_impossible_value_is_422(api_alice, ticket_a, ordering, cursor):
    response = api_alice.get("/tickets", {"ordering": ordering, "cursor": cursor})

    assert _is_error(response, 422)["code"] == "invalid_query"


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("assignee", ["²", "١٢", "１", "1²"])
def test_an_assignee_in_other_than_ascii_digits_is_422(api_alice, ticket_a, assignee):
    response = api_alice.get("/tickets", {"assignee": assignee})

    assert _is_error(response, 422)["code"] == "invalid_query"


def test_an_import_naming_an_organisation_beyond_any_id_is_422(api_admin):
    item = {
        "external_id": "legacy-1",
        "subject": "From the old desk",
        "requester_email": "person@legacy.example",
        "created_at": "2026-03-02T09:00:00+00:00",
        "organisation": 2**64,
    }

    _is_error(api_admin.post("/imports/tickets", [item]), 422)

    assert not Ticket.objects.exists()
    assert not User.objects.filter(email="person@legacy.example").exists()


@pytest.mark.parametrize("field", ["organisation", "product", "category"])
def test_filing_with_an_id_beyond_any_database_is_422(api_alice, bob, field):
    body = {"subject": "Sync", "requester_email": bob.email, field: 2**64}

    _is_error(api_alice.post("/tickets", body), 422)

    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/tickets/{number}", {"organisation": 2**64}),
        ("/tickets/{number}/assignment", {"assignee": 2**64}),
        ("/tickets/{number}/assignment", {"group": -(2**64)}),
    ],
)
def test_changes_naming_an_id_beyond_any_database_are_422(api_alice, ticket_a, path, body):
    send = api_alice.patch if path == "/tickets/{number}" else api_alice.post

    _is_error(send(path.format(number=ticket_a.number), body), 422)


# -- attachments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain\r\nSet-Cookie: a=b", "text/plain\n", "text/\x01plain", "text", "tëxt/plain", ""],
)
def test_an_attachment_whose_content_type_is_no_mime_type_is_422(
    api_alice, ticket_a, _media, content_type
):
    part = {
        "filename": "fix.txt",
        "content_type": content_type,
        "content_base64": base64.b64encode(b"log").decode(),
    }

    response = api_alice.post(
        f"/tickets/{ticket_a.number}/replies", {"body": "Fixed", "attachments": [part]}
    )

    _is_error(response, 422)
    assert not Attachment.objects.exists()
    assert not Comment.objects.filter(ticket=ticket_a).exists()


def test_an_attachment_with_parameters_in_its_content_type_is_kept(api_alice, ticket_a, _media):
    part = {
        "filename": "fix.txt",
        "content_type": "text/plain; charset=utf-8",
        "content_base64": base64.b64encode(b"log").decode(),
    }

    response = api_alice.post(
        f"/tickets/{ticket_a.number}/replies", {"body": "Fixed", "attachments": [part]}
    )

    assert response.status_code == 201, response.content
    assert Attachment.objects.get().content_type == "text/plain; charset=utf-8"


def test_a_stored_attachment_with_a_broken_content_type_downloads_as_octet_stream(
    api_bob, client, bob, ticket_a, _media
):
    services.add_comment(
        ticket=ticket_a,
        author=bob,
        body="The log",
        channel="api",
        uploads=[
            services.Upload(
                filename="log.txt",
                content_type="text/html\r\nSet-Cookie: a=b",
                file=ContentFile(b"line", name="log.txt"),
            )
        ],
    )
    attachment = Attachment.objects.get()
    client.force_login(bob)

    through_api = api_bob.get(f"/tickets/{ticket_a.number}/attachments/{attachment.pk}")
    through_page = client.get(f"/attachments/{attachment.pk}/")

    for response in (through_api, through_page):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert "Set-Cookie" not in response
        assert b"".join(response.streaming_content) == b"line"


# -- sizes -------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_json(api_alice, bob, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"subject": "Big", "requester_email": bob.email, "description": "x" * 2000}

    response = api_alice.post("/tickets", body)

    assert _is_error(response, 413)["code"] == "payload_too_large"
    assert not Ticket.objects.exists()


def test_an_attachment_over_its_limit_is_413_json(api_alice, ticket_a, settings, _media):
    settings.SERVICEDESK_MAX_ATTACHMENT_BYTES = 10
    part = {"filename": "big.bin", "content_base64": base64.b64encode(b"x" * 11).decode()}

    response = api_alice.post(
        f"/tickets/{ticket_a.number}/replies", {"body": "Big", "attachments": [part]}
    )

    assert _is_error(response, 413)["code"] == "attachment_too_large"
    assert not Attachment.objects.exists()


# -- what a refusal tells a customer ---------------------------------------------------------


def test_a_customer_filing_for_another_organisation_learns_not_whether_it_exists(api_bob, org_b):
    exists = api_bob.post("/tickets", {"subject": "Sync", "organisation": org_b.pk})
    missing = api_bob.post("/tickets", {"subject": "Sync", "organisation": org_b.pk + 1000})

    assert exists.status_code == missing.status_code == 422
    assert exists.json() == {
        **missing.json(),
        "message": missing.json()["message"].replace(str(org_b.pk + 1000), str(org_b.pk)),
    }
    assert not Ticket.objects.exists()


def test_a_customer_still_files_for_its_own_organisation_by_id(api_bob, bob):
    response = api_bob.post("/tickets", {"subject": "Sync", "organisation": bob.organisation_id})

    assert response.status_code == 201
    assert response.json()["organisation"]["id"] == bob.organisation_id


def test_a_customer_editing_a_ticket_learns_not_whether_an_organisation_exists(
    api_bob, ticket_a, org_b
):
    path = f"/tickets/{ticket_a.number}"

    exists = api_bob.patch(path, {"organisation": org_b.pk})
    missing = api_bob.patch(path, {"organisation": org_b.pk + 1000})

    assert exists.status_code == missing.status_code
    assert exists.json()["code"] == missing.json()["code"]
    ticket_a.refresh_from_db()
    assert ticket_a.organisation_id == ticket_a.requester.organisation_id


def test_an_end_user_filing_for_someone_learns_not_whether_a_colleague_exists(api_bob, org_a):
    CustomerFactory(email="dora@alpha.example", organisation=org_a)

    colleague = api_bob.post("/tickets", {"subject": "x", "requester_email": "dora@alpha.example"})
    nobody = api_bob.post("/tickets", {"subject": "x", "requester_email": "nobody@alpha.example"})

    assert colleague.status_code == nobody.status_code == 422
    assert colleague.json() == nobody.json()
    assert not Ticket.objects.exists()


def test_a_logger_filing_for_someone_elsewhere_learns_not_whether_they_exist(
    api_charlie, charlie, bob
):
    inactive = CustomerFactory(
        email="gone@bravo.example", organisation=charlie.organisation, is_active=False
    )

    elsewhere = api_charlie.post("/tickets", {"subject": "x", "requester_email": bob.email})
    gone = api_charlie.post("/tickets", {"subject": "x", "requester_email": inactive.email})
    nobody = api_charlie.post("/tickets", {"subject": "x", "requester_email": "no@one.example"})

    assert elsewhere.status_code == gone.status_code == nobody.status_code == 422
    assert elsewhere.json() == gone.json() == nobody.json()
    assert not Ticket.objects.exists()
