"""An API client per party: each sends its own Bearer token."""

import json

import pytest
from django.test import Client

from servicedesk.api.tokens import create_token


class ApiClient:
    """Django's test client speaking JSON with a Bearer token."""

    def __init__(self, user=None, token: str | None = None):
        self.client = Client()
        self.token = token or (create_token(user=user)[1] if user else None)

    def _headers(self, headers):
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
        if self.token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return extra

    def get(self, path, params=None, headers=None):
        return self.client.get(f"/api/v1{path}", params or {}, **self._headers(headers))

    def send(self, method, path, body=None, headers=None):
        call = getattr(self.client, method)
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return call(
            f"/api/v1{path}", data, content_type="application/json", **self._headers(headers)
        )

    def post(self, path, body=None, headers=None):
        return self.send("post", path, body, headers)

    def patch(self, path, body=None, headers=None):
        return self.send("patch", path, body, headers)

    def delete(self, path, headers=None):
        return self.client.delete(f"/api/v1{path}", **self._headers(headers))


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.SERVICEDESK_API_RATE_LIMIT = 0


@pytest.fixture
def api_alice(alice):
    """A service representative (staff, not an administrator)."""
    return ApiClient(alice)


@pytest.fixture
def api_admin(db):
    """The desk's IT administrator (writes configuration, imports, webhooks)."""
    from servicedesk.accounts.models import StaffRole
    from tests.factories import StaffFactory

    return ApiClient(StaffFactory(email="it@desk.example", staff_role=StaffRole.IT_ADMINISTRATOR))


@pytest.fixture
def api_bob(bob):
    return ApiClient(bob)


@pytest.fixture
def api_bob_admin(bob_admin):
    return ApiClient(bob_admin)


@pytest.fixture
def api_charlie(charlie):
    return ApiClient(charlie)
