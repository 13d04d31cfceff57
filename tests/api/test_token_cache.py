"""A token is read once per ``tokens.CACHE_SECONDS`` per process, never longer: revoking it
or changing its user takes effect at once in the process that did it, and a request cannot
change what the next one gets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicedesk.api import tokens
from servicedesk.api.models import ApiToken
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(alice):
    tokens.forget_cached()
    return tokens.create_token(user=alice)[1]


def _token_reads(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/tickets").status_code == 200
    return sum("api_apitoken" in q["sql"] and "SELECT" in q["sql"] for q in queries)


def test_a_burst_of_requests_reads_the_token_once(token):
    client = ApiClient(token=token)
    assert _token_reads(client) == 1
    assert _token_reads(client) == 0
    read_at, row = tokens._cache[tokens._digest(token)]
    tokens._cache[tokens._digest(token)] = (read_at - tokens.CACHE_SECONDS - 1, row)  # aged
    assert _token_reads(client) == 1  # older than CACHE_SECONDS: read again


def test_revoking_stops_the_token_at_once(token):
    client = ApiClient(token=token)
    assert client.get("/tickets").status_code == 200

    tokens.revoke(prefix=ApiToken.objects.get().prefix)

    assert client.get("/tickets").status_code == 401


def test_deactivating_the_user_stops_the_token_at_once(token, alice):
    client = ApiClient(token=token)
    assert client.get("/tickets").status_code == 200

    alice.is_active = False
    alice.save()

    assert client.get("/tickets").status_code == 401


def test_each_request_gets_its_own_copy_of_the_user(token):
    first, second = tokens.authenticate(token), tokens.authenticate(token)
    first.user.full_name = "Changed by a request"
    assert second.user.full_name != "Changed by a request"
    assert tokens.authenticate(token).user.full_name != "Changed by a request"
