"""One bad row never stalls the rest (issue 12): a row of the outbox or of the webhook queue
that cannot be sent has its failure recorded on it, and every other row still leaves in the
same relay pass, with a real SMTP server and real HTTP receivers on loopback."""

import socketserver
import threading
from datetime import timedelta

import pytest
import time_machine

from servicedesk.api.models import DeliveryStatus, Webhook, WebhookDelivery
from servicedesk.core import clock, delivery
from servicedesk.mail import outbox
from servicedesk.mail.models import OutboxMessage, OutboxStatus
from servicedesk.ops import relay
from tests.api.test_webhooks import Receiver

pytestmark = pytest.mark.django_db


class Nonsense(socketserver.BaseRequestHandler):
    """A receiver that answers a POST with something that is not HTTP at all."""

    def handle(self):
        self.request.recv(65536)
        self.request.sendall(b"HELLO THERE\r\n\r\n")


@pytest.fixture
def nonsense():
    server = socketserver.TCPServer(("127.0.0.1", 0), Nonsense)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def _mail(to, **fields) -> OutboxMessage:
    """An outbox row as it may sit in the table (written directly: ``queue_email`` now
    refuses what these tests need to hold)."""
    now = clock.now()
    return OutboxMessage.objects.create(
        to=to, subject=f"to {to}", body_text="Hello", next_attempt_at=now, created_at=now, **fields
    )


def _hook(url: str) -> Webhook:
    return Webhook.objects.create(
        url=url, events=["ticket.created"], secret="whsec_" + "A" * 32, created_at=clock.now()
    )


def _deliveries(hook: Webhook, n: int, tag: str) -> list[WebhookDelivery]:
    now = clock.now()
    return [
        WebhookDelivery.objects.create(
            webhook=hook,
            message_id=f"msg_{tag}{i}",
            event="ticket.created",
            payload={"n": i},
            next_attempt_at=now,
            created_at=now,
        )
        for i in range(n)
    ]


def test_poison_rows_in_the_outbox_and_the_webhook_queue_hold_up_no_other_row(
    smtp, receiver, nonsense
):
    smtp.start()
    # The poison comes first: the oldest rows are claimed and sent first.
    bad_address = _mail(["p1@x..example"])
    bad_headers = _mail(["c0@example.com"], headers=["not", "a", "mapping"])
    good_mail = [_mail([f"c{i}@example.com"]) for i in range(1, 8)]
    unparseable = _deliveries(_hook("http://[::1"), 4, "bad")
    garbled = _deliveries(_hook(nonsense), 2, "nonsense")
    good_deliveries = _deliveries(_hook(receiver.url), 7, "good")
    before = clock.now()

    outcomes = relay.run_once(batch=3)

    assert outcomes == {
        "mail": {"failed": 1, "retry": 1, "sent": 7},
        "webhooks": {"failed": 4, "retry": 2, "delivered": 7},
    }
    assert sorted(e.rcpt_tos[0] for e in smtp.received) == sorted(m.to[0] for m in good_mail)
    assert sorted(body for _, body in receiver.received) == [
        f'{{"n":{i}}}'.encode() for i in range(7)
    ]
    assert all(
        r.status == DeliveryStatus.DELIVERED
        for r in WebhookDelivery.objects.filter(pk__in=[d.pk for d in good_deliveries])
    )
    # An address that can never be sent fails at once, and says why.
    bad_address.refresh_from_db()
    assert (bad_address.status, bad_address.attempts) == (OutboxStatus.FAILED, 1)
    assert "p1@x..example" in bad_address.last_error
    # A row that failed for a reason of its own waits for its backoff.
    bad_headers.refresh_from_db()
    assert (bad_headers.status, bad_headers.attempts) == (OutboxStatus.PENDING, 1)
    assert bad_headers.last_error and bad_headers.next_attempt_at > before
    for row in unparseable:
        row.refresh_from_db()
        assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
        assert "InvalidWebhook" in row.last_error and "[::1" in row.last_error
    for row in garbled:
        row.refresh_from_db()
        assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
        assert "BadStatusLine" in row.last_error and row.next_attempt_at > before


def test_a_poison_row_is_retried_alone_and_fails_for_good_after_the_last_attempt(smtp, nonsense):
    smtp.start()
    (garbled,) = _deliveries(_hook(nonsense), 1, "nonsense")
    WebhookDelivery.objects.filter(pk=garbled.pk).update(attempts=delivery.MAX_ATTEMPTS - 2)

    assert relay.run_once()["webhooks"] == {"retry": 1}
    assert relay.run_once()["webhooks"] == {}  # not due before its backoff
    later = clock.now() + delivery.backoff(delivery.MAX_ATTEMPTS) + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert relay.run_once()["webhooks"] == {"failed": 1}

    garbled.refresh_from_db()
    assert (garbled.status, garbled.attempts) == (DeliveryStatus.FAILED, delivery.MAX_ATTEMPTS)


def test_when_one_kind_fails_as_a_whole_the_other_is_still_sent(smtp, receiver, monkeypatch):
    smtp.start()
    _deliveries(_hook(receiver.url), 2, "good")

    def broken(**kwargs):
        raise RuntimeError("the outbox is broken")

    monkeypatch.setattr(outbox, "send_due", broken)

    assert relay.run_once()["webhooks"] == {"delivered": 2}
    assert len(receiver.received) == 2
