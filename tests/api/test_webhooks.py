"""Webhooks: registered by administrators, queued with the change, signed per Standard
Webhooks (checked with the reference library), retried, logged, replayable."""

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from servicedesk.api import webhooks
from servicedesk.api.models import DeliveryStatus, WebhookDelivery
from servicedesk.tickets import services
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server on loopback that records what it is sent."""

    def __init__(self, status: int = 204):
        self.status, self.received = status, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def _register(api_admin, url, events):
    response = api_admin.post("/webhooks", {"url": url, "events": events})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_ticket_is_delivered_signed_and_logged(api_admin, receiver, bob):
    hook = _register(api_admin, receiver.url, ["ticket.created", "reply.added"])
    assert hook["secret"].startswith("whsec_")
    assert "secret" not in api_admin.get(f"/webhooks/{hook['id']}").json()
    ticket = make_ticket(requester=bob, subject="Sync broken")
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "ticket.created" and delivery.status == DeliveryStatus.PENDING
    assert webhooks.deliver(delivery_id=delivery.pk) == "delivered"
    headers, body = receiver.received[0]
    payload = Verifier(hook["secret"]).verify(body, headers)  # raises if the signature is wrong
    assert payload["type"] == "ticket.created"
    assert payload["data"]["ticket"]["number"] == ticket.number
    assert headers["webhook-id"] == delivery.message_id
    tampered = body.replace(b"Sync broken", b"Sync fixed!")
    with pytest.raises(WebhookVerificationError):
        Verifier(hook["secret"]).verify(tampered, headers)
    log = api_admin.get(f"/webhooks/{hook['id']}/deliveries").json()
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 1
    assert log[0]["response_status"] == 204


def test_only_subscribed_events_are_queued_and_a_rolled_back_change_queues_nothing(
    api_admin, receiver, ticket_a, alice
):
    _register(api_admin, receiver.url, ["ticket.status_changed"])
    services.add_comment(ticket=ticket_a, author=alice, body="Looking")  # reply.added: not wanted
    assert not WebhookDelivery.objects.exists()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.change_status(ticket=ticket_a, to="in_progress", by=alice)
        raise RuntimeError("rolled back")
    assert not WebhookDelivery.objects.exists()
    services.change_status(ticket=ticket_a, to="in_progress", by=alice)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "ticket.status_changed"
    assert delivery.payload["data"]["events"][0]["to"] == "in_progress"


def test_a_failing_receiver_is_retried_with_backoff_then_replayed(api_admin, bob):
    failing = Receiver(status=503)
    try:
        hook = _register(api_admin, failing.url, ["ticket.created"])
        make_ticket(requester=bob)
        delivery = WebhookDelivery.objects.get()
        assert webhooks.deliver(delivery_id=delivery.pk) == "retry"
        delivery.refresh_from_db()
        assert delivery.status == "pending" and delivery.attempts == 1
        assert delivery.response_status == 503 and delivery.next_attempt_at > delivery.created_at
        assert webhooks.deliver(delivery_id=delivery.pk) == "not due"  # waits for its time
        failing.status = 200
        replay = api_admin.post(f"/webhooks/{hook['id']}/deliveries/{delivery.pk}/replay")
        assert replay.status_code == 201
        copy = WebhookDelivery.objects.get(pk=replay.json()["id"])
        assert copy.payload == delivery.payload and copy.message_id != delivery.message_id
        assert webhooks.deliver(delivery_id=copy.pk) == "delivered"
        assert len(failing.received) == 2
    finally:
        failing.close()


def test_an_unreachable_receiver_is_recorded_not_raised(api_admin, bob):
    _register(api_admin, "http://127.0.0.1:9/nothing-listens", ["ticket.created"])
    make_ticket(requester=bob)
    delivery = WebhookDelivery.objects.get()
    assert webhooks.deliver(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.last_error and delivery.response_status is None


def test_webhooks_are_for_administrators_only(api_alice, api_bob, api_admin):
    body = {"url": "http://127.0.0.1:9/x", "events": ["ticket.created"]}
    assert api_alice.post("/webhooks", body).status_code == 403
    assert api_bob.post("/webhooks", body).status_code == 404
    assert api_bob.get("/webhooks").status_code == 404
    assert (
        api_admin.post("/webhooks", {"url": "ftp://x", "events": ["ticket.created"]}).status_code
        == 422
    )
    assert api_admin.post("/webhooks", {**body, "events": ["ticket.exploded"]}).status_code == 422
    assert api_admin.post("/webhooks", {**body, "events": []}).status_code == 422
    hook = api_admin.post("/webhooks", body).json()
    assert api_admin.delete(f"/webhooks/{hook['id']}").status_code == 204
    assert api_admin.get(f"/webhooks/{hook['id']}").status_code == 404


def test_no_webhooks_costs_no_queries(bob, django_assert_num_queries):
    make_ticket(requester=bob)  # warms the configuration memo
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        make_ticket(requester=bob)
    assert not any("api_webhook" in q["sql"] for q in queries.captured_queries)


def test_sla_warnings_and_breaches_are_announced_once(api_admin, bob):
    import time_machine

    from servicedesk.sla import services as sla

    monday_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    _register(api_admin, "http://127.0.0.1:9/sla", ["sla.warning", "sla.breached"])
    with time_machine.travel(monday_9, tick=False):
        ticket = make_ticket(requester=bob, urgency=1, impact=1)
    assert not WebhookDelivery.objects.exists()  # ticket.created is not subscribed
    for _ in range(2):
        sla.sweep(now=monday_9 + timedelta(hours=5))
    kinds = sorted(WebhookDelivery.objects.values_list("event", flat=True))
    assert kinds == ["sla.breached"]  # past due at once: the warning is not sent as noise
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["data"]["ticket"]["number"] == ticket.number
    assert delivery.payload["data"]["events"][0]["field"] == "first_response"


# ---- URLs refused at the door, failed deliveries sent again (issue 12) -------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://[::1/hook",
        "https:///no-host",
        "http://127.0.0.1:port/x",
        "http://a b/",
    ],
)
def test_a_url_deliveries_could_never_reach_is_refused(api_admin, url):
    response = api_admin.post("/webhooks", {"url": url, "events": ["ticket.created"]})

    assert response.status_code == 422, response.content
    assert not webhooks.Webhook.objects.exists()


def test_the_api_says_why_a_url_is_refused(api_admin):
    response = api_admin.post("/webhooks", {"url": "http://[::1", "events": ["ticket.created"]})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_webhook"
    assert "http:// or https:// address with a host name" in response.json()["message"]


def test_the_admin_form_refuses_what_the_api_refuses():
    from servicedesk.api.admin import WebhookForm

    for url, ok in [("ftp://files.example/x", False), ("https://hooks.example/in", True)]:
        form = WebhookForm(data={"url": url, "events": '["ticket.created"]', "is_active": True})
        assert form.is_valid() is ok, form.errors


def _failed_delivery(bob):
    make_ticket(requester=bob)
    delivery = WebhookDelivery.objects.latest("pk")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, attempts=12, last_error="HTTP 503"
    )
    return delivery


def test_the_admin_sends_failed_deliveries_again_as_they_were(
    api_admin, admin_client, receiver, bob
):
    from django.urls import reverse

    _register(api_admin, receiver.url, ["ticket.created"])
    delivery = _failed_delivery(bob)

    response = admin_client.post(
        reverse("admin:api_webhookdelivery_changelist"),
        {"action": "send_again", "_selected_action": [delivery.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 of 1 delivery queued again" in response.content.decode()
    assert webhooks.deliver_due() == {"delivered": 1}
    headers, _ = receiver.received[0]
    assert headers["webhook-id"] == delivery.message_id  # the same delivery, not a copy
    assert WebhookDelivery.objects.count() == 1


def test_the_command_sends_failed_deliveries_again(api_admin, receiver, bob):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    _register(api_admin, receiver.url, ["ticket.created"])
    first, second = _failed_delivery(bob), _failed_delivery(bob)
    WebhookDelivery.objects.filter(pk=second.pk).update(status=DeliveryStatus.DELIVERED)

    out = StringIO()
    call_command("webhooks", "resend", str(first.pk), str(second.pk), stdout=out)
    assert f"queued again {first.pk}" in out.getvalue()
    assert f"left alone   {second.pk}" in out.getvalue()
    first.refresh_from_db()
    assert (first.status, first.attempts) == (DeliveryStatus.PENDING, 0)
    assert webhooks.deliver_due() == {"delivered": 1}
    assert len(receiver.received) == 1  # the one delivered already is not sent again

    WebhookDelivery.objects.filter(pk=first.pk).update(status=DeliveryStatus.FAILED)
    out = StringIO()
    call_command("webhooks", "resend", "--all-failed", stdout=out)
    assert "1 deliveries queued again." in out.getvalue()
    with pytest.raises(CommandError):
        call_command("webhooks", "resend", "999999")
    with pytest.raises(CommandError):
        call_command("webhooks", "resend", "1", "--all-failed")
