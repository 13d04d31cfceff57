"""A very long URI: 414, as the OpenAPI schema documents on every operation, whether our own
check answers (JSON) or the web server in front refuses the request line first (gunicorn:
text/html, over 4,094 bytes)."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from servicedesk.api.api import MAX_URI, api
from tests.ports import free_port

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/tickets?q=" + "x" * MAX_URI,
        "/tickets?status=" + "open," * (MAX_URI // 5),
        "/tickets/" + "1" * MAX_URI,
        "/tickets/SD-1/replies?" + "a=b&" * (MAX_URI // 4),
        "/organisations?" + "x" * MAX_URI,
    ],
)
def test_a_uri_over_the_limit_is_our_414(api_alice, path):
    response = api_alice.get(path)

    assert response.status_code == 414, response.content[:200]
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["code"] == "uri_too_long"


@pytest.mark.django_db
def test_a_uri_at_the_limit_is_read(api_alice):
    path = "/tickets?q="
    path += "x" * (MAX_URI - len("/api/v1" + path))
    assert len("/api/v1" + path) == MAX_URI

    assert api_alice.get(path).status_code == 422  # q has at most 200 characters: read, refused


def test_every_operation_documents_the_414():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answer = operation["responses"].get(414)
            assert answer is not None, (method, path)
            assert set(answer["content"]) == {"application/json", "text/html"}


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn as ``servicedesk run`` starts it (its default request-line limit)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SERVICEDESK_DATA_DIR"] = str(tmp_path_factory.mktemp("gunicorn"))
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "servicedesk.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


@pytest.mark.parametrize("length", [MAX_URI + 10, 5000, 20000])
def test_over_http_either_414_matches_the_schema(gunicorn, length):
    """Just over our limit, our JSON answer; far over it, gunicorn's page: both documented."""
    schema = schemathesis.openapi.from_url(f"{gunicorn}/api/v1/openapi.json")
    operation = schema.find_operation_by_label("GET /api/v1/tickets")
    q = "x" * (length - len("/api/v1/tickets?q="))
    case = operation.Case(query={"q": q})

    response = case.call(base_url=gunicorn)
    case.validate_response(response, checks=CHECKS)

    assert response.status_code == 414
    expected = "application/json" if length < 4094 - len("GET  HTTP/1.1") else "text/html"
    assert response.headers["content-type"][0].startswith(expected), response.headers
