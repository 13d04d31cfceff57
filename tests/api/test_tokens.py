"""Tokens: made by the command, stored hashed, revocable; the token acts as its user."""

import hashlib

import pytest
from django.core.management import CommandError, call_command

from servicedesk.api.models import ApiToken
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_token_create_prints_a_token_that_is_stored_only_as_a_digest(alice, capsys):
    call_command("token", "create", "ALICE@desk.example", "--name", "CRM sync")
    token = capsys.readouterr().out.strip()
    row = ApiToken.objects.get(user=alice)
    assert token.startswith("sd_") and len(token) > 40
    assert row.name == "CRM sync"
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.prefix, row.digest)
    assert ApiClient(token=token).get("/tickets").status_code == 200


def test_token_create_for_an_unknown_user_fails_and_makes_nothing():
    with pytest.raises(CommandError, match="No active user"):
        call_command("token", "create", "nobody@example.com")
    assert not ApiToken.objects.exists()


def test_token_list_shows_prefixes_not_tokens_and_revoke_stops_the_token(alice, capsys):
    call_command("token", "create", "alice@desk.example")
    token = capsys.readouterr().out.strip()
    call_command("token", "list")
    listing = capsys.readouterr().out
    prefix = ApiToken.objects.get().prefix
    assert prefix in listing and "alice@desk.example" in listing and "live" in listing
    assert token not in listing
    call_command("token", "revoke", prefix)
    assert ApiClient(token=token).get("/tickets").status_code == 401
    call_command("token", "list")
    assert "revoked" in capsys.readouterr().out


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer nonsense", "Bearer sd_abc_def", "Basic YWxpY2U6c2VjcmV0"],
)
def test_requests_without_a_valid_token_get_401_with_a_reason(alice, header):
    client = ApiClient()
    response = client.get("/tickets", headers={"Authorization": header} if header else None)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_tampered_token_with_a_real_prefix_is_refused(alice):
    client = ApiClient(alice)
    assert client.get("/tickets").status_code == 200
    client.token = client.token[:-2] + ("AA" if not client.token.endswith("AA") else "BB")
    assert client.get("/tickets").status_code == 401


def test_a_deactivated_users_token_stops_working(bob, api_bob):
    assert api_bob.get("/tickets").status_code == 200
    bob.is_active = False
    bob.save()
    assert api_bob.get("/tickets").status_code == 401


def test_users_list_and_revoke_their_own_tokens_through_the_api(api_bob, api_charlie):
    mine = api_bob.get("/tokens").json()
    assert [t["user"] for t in mine] == ["bob@alpha.example"]
    theirs = api_charlie.get("/tokens").json()
    assert api_bob.delete(f"/tokens/{theirs[0]['prefix']}").status_code == 404
    assert api_charlie.get("/tickets").status_code == 200
    assert api_bob.delete(f"/tokens/{mine[0]['prefix']}").status_code == 204
    assert api_bob.get("/tickets").status_code == 401


def test_rate_limit_answers_429_with_retry_after_and_is_per_token(settings, bob, alice):
    from django.core.cache import cache

    cache.clear()
    settings.SERVICEDESK_API_RATE_LIMIT = 3
    first, other = ApiClient(bob), ApiClient(alice)
    assert [first.get("/tickets").status_code for _ in range(3)] == [200, 200, 200]
    refused = first.get("/tickets")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert other.get("/tickets").status_code == 200  # another token has its own budget
    settings.SERVICEDESK_API_RATE_LIMIT = 0
    assert first.get("/tickets").status_code == 200  # 0 turns the limit off


def test_openapi_and_docs_are_served_locally_without_a_token(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/tickets" in spec["paths"]
    assert "/api/v1/imports/tickets" in spec["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "cdn." not in page and "/static/ninja/swagger-ui-bundle.js" in page
