"""Schemathesis fuzzes the API against its own OpenAPI schema, in process, as a superuser.

Every operation of ``/api/v1/openapi.json`` gets generated requests, valid and invalid ones,
with alice's Bearer token (a superuser). Every answer must be no 5xx, a documented status
code with a documented content type and headers, and a body matching the documented schema.

Three runs:

- every operation with generated parameters (mostly ids nothing has);
- every operation with an id in its path, pointed at records that exist (a ticket with a
  thread, an attachment and a link; a webhook with a delivery; ...), so bodies reach the code
  behind the lookups;
- chains of calls along the links Schemathesis infers from the schema (``POST /tickets`` →
  ``number`` → ``/tickets/{number}/...``; the schema declares no OpenAPI links).

All on the pytest-django test database, in the test's transaction: the WSGI app below is
Django's own handler, called in the test's thread and connection, with Django's closing of
connections between requests switched off (as its test client does). Each example (each
stateful scenario) runs in a savepoint rolled back after it, so a replayed example meets the
same data and gets the same answers, and a 5xx that breaks the transaction on PostgreSQL cannot
spoil the examples after it.
"""

import base64
import json
import os

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from servicedesk.accounts.models import Group
from servicedesk.api import webhooks
from servicedesk.api.models import Webhook, WebhookDelivery
from servicedesk.api.tokens import create_token
from servicedesk.changes import services as changes
from servicedesk.changes.models import ChangeRequest
from servicedesk.core import clock
from servicedesk.sla.models import Calendar, Policy
from servicedesk.tickets import services
from servicedesk.tickets.models import Attachment, Category, Product
from tests.factories import make_ticket

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

_handler = None


def app(environ, start_response):
    """Django's WSGI handler; a request that answers 5xx is rolled back to a savepoint, so the
    test's transaction stays usable (PostgreSQL refuses every query after a failed one)."""
    global _handler
    if _handler is None:
        _handler = WSGIHandler()
    seen = {}

    def remember(status, headers, exc_info=None):
        seen["status"] = int(status[:3])
        return start_response(status, headers, exc_info)

    if not connection.in_atomic_block:  # loading the schema at import: no test, no database
        return _handler(environ, start_response)
    savepoint = transaction.savepoint()
    try:
        result = _handler(environ, remember)
        try:
            body = b"".join(result)  # read now: a download streams from an open file
        finally:
            result.close()
    except BaseException:
        transaction.savepoint_rollback(savepoint)
        raise
    if seen["status"] >= 500:
        transaction.savepoint_rollback(savepoint)
        transaction.set_rollback(False)
    else:
        transaction.savepoint_commit(savepoint)
    return [body]


@pytest.fixture
def rolled_back():
    """Run the block in a savepoint and undo it: every example starts from the fixtures' data."""

    class Block:
        def __enter__(self):
            self.savepoint = transaction.savepoint()

        def __exit__(self, *exc):
            transaction.savepoint_rollback(self.savepoint)

    return Block()


# The schema is fetched through the app at import; the docs view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
# The token comes from the fixture: no generated Authorization headers (missing and malformed
# tokens have their own tests in test_tokens.py), so every request reaches the handlers.
schema.config.generation.update(with_security_parameters=False, deterministic=True)

# More for a deeper local run: SERVICEDESK_FUZZ_EXAMPLES=200 pytest tests/api/test_schemathesis.py
EXAMPLES = int(os.environ.get("SERVICEDESK_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same requests on every run: CI failures reproduce locally
    database=None,
    max_examples=EXAMPLES,
    # Shrinking replays a failure many times over; the first failing request is reported.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def _in_process(settings, tmp_path):
    """No rate limit, uploads in a scratch directory, and the test's one connection kept open
    between requests."""
    settings.SERVICEDESK_API_RATE_LIMIT = 0
    settings.MEDIA_ROOT = tmp_path
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def records(_in_process, alice, charlie, ticket_a):
    """alice as a superuser, and one of everything the path parameters name."""
    alice.is_superuser = True
    alice.save()
    other = make_ticket(requester=charlie, urgency=3, impact=3)
    services.add_comment(
        ticket=ticket_a,
        author=alice,
        body="Please try the attached build.",
        channel="api",
        uploads=[
            services.Upload(
                filename="build.txt",
                content_type="text/plain",
                file=ContentFile(b"build 42", name="build.txt"),
            )
        ],
    )
    link = services.link_tickets(source=ticket_a, target=other, kind="related", by=alice)
    now = clock.now()
    webhook = Webhook.objects.create(
        url="https://crm.example/hooks",
        events=["ticket.created"],
        secret=webhooks.new_secret(),
        created_by=alice,
        created_at=now,
    )
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        message_id="msg_schemathesis",
        event="ticket.created",
        payload={"type": "ticket.created", "data": {"number": ticket_a.number}},
        next_attempt_at=now,
        created_at=now,
    )
    product = Product.objects.create(name="CRM Outlook add-in")
    category = Category.objects.create(name="Synchronisation", kind="incident")
    # A change request under the ticket's number: the changes' {number} paths find one too.
    change = changes.open_change(
        organisation=ticket_a.organisation,
        requester=ticket_a.requester,
        title="A VAT number field",
        description="On the account form.",
        by=alice,
    )
    ChangeRequest.objects.filter(pk=change.pk).update(number=ticket_a.number)
    spare, _ = create_token(user=alice, name="spare")  # revocable without locking alice out
    _, token = create_token(user=alice, name="schemathesis")
    return {
        "headers": {"Authorization": f"Bearer {token}"},
        "path": {
            "number": ticket_a.number,
            "attachment_id": Attachment.objects.get(ticket=ticket_a).pk,
            "link_id": link.pk,
            "webhook_id": webhook.pk,
            "delivery_id": delivery.pk,
            "organisation_id": ticket_a.organisation_id,
            "contact_id": ticket_a.requester_id,
            "product_id": product.pk,
            "category_id": category.pk,
            "group_id": Group.objects.order_by("pk").values_list("pk", flat=True).first(),
            "calendar_id": Calendar.objects.order_by("pk").values_list("pk", flat=True).first(),
            "policy_id": Policy.objects.order_by("pk").values_list("pk", flat=True).first(),
            "prefix": spare.prefix,
        },
    }


# One pytest item per operation. Not ``@schema.parametrize()``: under pytest 9.2 its items all
# share one node id, so pytest-xdist (``make test``) runs only the first operation.
OPERATIONS = sorted(op.ok().label for op in schema.get_all_operations())
WITH_IDS = [label for label in OPERATIONS if "{" in label]


def cases(label, **kwargs):
    """Valid and invalid requests for the operation ``label``."""
    operation = schema.find_operation_by_label(label)
    return st.sampled_from(list(GenerationMode)).flatmap(
        lambda mode: operation.as_strategy(generation_mode=mode, **kwargs)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("label", OPERATIONS)
def test_every_operation_answers_as_documented(label, records, rolled_back):
    @FUZZ
    @given(case=cases(label))
    def fuzz(case):
        with rolled_back:
            case.call_and_validate(headers=records["headers"], checks=CHECKS)

    fuzz()


@pytest.mark.django_db
@pytest.mark.parametrize("label", WITH_IDS)
def test_operations_on_existing_records_answer_as_documented(label, records, rolled_back):
    operation = schema.find_operation_by_label(label)
    known = {p.name: records["path"][p.name] for p in operation.path_parameters}

    @FUZZ
    @given(case=cases(label, path_parameters=known))
    def fuzz(case):
        with rolled_back:
            case.call_and_validate(headers=records["headers"], checks=CHECKS)

    fuzz()


# Issue 12's hostile values, sent on every run whatever the generator happens to find: dates
# that UTC cannot hold, cursors holding them (or a null, or a number beyond 64 bits), digits
# that are not ASCII, ids beyond any database, a content type that would split a header.
OUT_OF_RANGE = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


def _cursor(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def _import(**fields) -> list[dict]:
    item = {
        "external_id": "legacy-1",
        "subject": "From the old desk",
        "requester_email": "person@legacy.example",
        "created_at": "2026-03-02T09:00:00+00:00",
    }
    return [{**item, **fields}]


HOSTILE = [
    *[("GET /api/v1/tickets", {"query": {"updated_since": when}}) for when in OUT_OF_RANGE],
    *[
        ("GET /api/v1/tickets", {"query": {"ordering": ordering, "cursor": cursor}})
        for ordering, cursor in [
            *[("updated_at", _cursor("updated_at", when, 1)) for when in OUT_OF_RANGE],
            *[("sla_due", _cursor("sla_due", when, 1)) for when in OUT_OF_RANGE],
            ("-created_at", _cursor("-created_at", None, 1)),
            ("number", _cursor("number", 1, 2**64)),
        ]
    ],
    *[("GET /api/v1/tickets", {"query": {"assignee": digits}}) for digits in ["²", "١٢", "１"]],
    ("POST /api/v1/imports/tickets", {"body": _import(organisation=2**64)}),
    ("POST /api/v1/imports/tickets", {"body": _import(created_at=OUT_OF_RANGE[1])}),
    ("POST /api/v1/tickets", {"body": {"subject": "x", "organisation": 2**64}}),
    ("PATCH /api/v1/tickets/{number}", {"body": {"organisation": 2**64}}),
    ("POST /api/v1/tickets/{number}/assignment", {"body": {"assignee": 2**64}}),
    (
        "POST /api/v1/tickets/{number}/replies",
        {
            "body": {
                "body": "Fixed",
                "attachments": [
                    {
                        "filename": "fix.txt",
                        "content_type": "text/plain\r\nSet-Cookie: a=b",
                        "content_base64": "bG9n",
                    }
                ],
            }
        },
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "request_parts"), HOSTILE, ids=repr)
def test_hostile_values_get_a_documented_json_4xx(label, request_parts, records, rolled_back):
    operation = schema.find_operation_by_label(label)
    known = {p.name: records["path"][p.name] for p in operation.path_parameters}
    case = operation.Case(path_parameters=known, **request_parts)

    with rolled_back:
        response = case.call_and_validate(headers=records["headers"], checks=CHECKS)

    assert response.status_code == 422, response.text
    assert response.json()["code"] and response.json()["message"]


@pytest.mark.django_db
def test_a_body_over_the_limit_gets_a_documented_json_413(records, rolled_back, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    operation = schema.find_operation_by_label("POST /api/v1/tickets")
    case = operation.Case(body={"subject": "x", "description": "x" * 2000})

    with rolled_back:
        response = case.call_and_validate(headers=records["headers"], checks=CHECKS)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.django_db
def test_a_stored_broken_content_type_downloads_as_documented(records, rolled_back):
    attachment = Attachment.objects.get(pk=records["path"]["attachment_id"])
    Attachment.objects.filter(pk=attachment.pk).update(content_type="text/html\r\nX-A: b")
    operation = schema.find_operation_by_label(
        "GET /api/v1/tickets/{number}/attachments/{attachment_id}"
    )
    case = operation.Case(path_parameters=records["path"] | {"attachment_id": attachment.pk})

    with rolled_back:
        response = case.call_and_validate(headers=records["headers"], checks=CHECKS)

    assert response.status_code == 200
    assert response.headers["content-type"] == ["application/octet-stream"]


@pytest.mark.django_db
def test_chains_of_calls_answer_as_documented(records):
    class Chains(schema.as_state_machine()):
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            return {"headers": records["headers"]}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Chains.run(settings=settings(FUZZ, max_examples=EXAMPLES, stateful_step_count=8))
