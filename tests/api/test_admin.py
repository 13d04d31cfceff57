"""The API's pages in the admin: tokens (revoke, never shown), webhooks, the delivery log."""

import pytest

from servicedesk.api import tokens, webhooks
from servicedesk.api.models import ApiToken, Webhook, WebhookDelivery
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_tokens_are_listed_without_the_token_and_can_be_revoked(admin_client, bob):
    row, token = tokens.create_token(user=bob, name="CRM")
    page = admin_client.get("/admin/api/apitoken/")
    assert page.status_code == 200
    assert row.prefix in page.content.decode() and token not in page.content.decode()
    admin_client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [row.pk]})
    assert ApiToken.objects.get().revoked_at is not None
    assert tokens.authenticate(token) is None


def test_a_webhook_made_in_the_admin_gets_a_secret_and_its_deliveries_can_be_replayed(
    admin_client, bob
):
    response = admin_client.post(
        "/admin/api/webhook/add/",
        {
            "url": "http://127.0.0.1:9/x",
            "events": '["ticket.created"]',
            "description": "CRM",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    hook = Webhook.objects.get()
    assert hook.secret.startswith(webhooks.SECRET_PREFIX)
    bad = admin_client.post(
        "/admin/api/webhook/add/", {"url": "http://127.0.0.1:9/y", "events": '["nope"]'}
    )
    assert bad.status_code == 200 and Webhook.objects.count() == 1
    make_ticket(requester=bob)
    delivery = WebhookDelivery.objects.get()
    assert admin_client.get("/admin/api/webhookdelivery/").status_code == 200
    assert admin_client.get(f"/admin/api/webhookdelivery/{delivery.pk}/change/").status_code == 200
    admin_client.post(
        "/admin/api/webhookdelivery/", {"action": "replay", "_selected_action": [delivery.pk]}
    )
    assert WebhookDelivery.objects.count() == 2
