"""The API over real HTTP: `servicedesk token create` on the command line, gunicorn serving,
a ticket filed and read back with its ETag, the docs page's assets served locally."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.ports import free_port

COMMAND = str(Path(sys.executable).parent / "servicedesk")


def _call(url, *, token=None, body=None, method=None, headers=None):
    request = urllib.request.Request(url, method=method or ("POST" if body else "GET"))
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data=data, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_token_from_the_command_line_files_and_reads_a_ticket_over_http(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        SERVICEDESK_DATA_DIR=str(tmp_path),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        DJANGO_SUPERUSER_EMAIL="root@desk.example",
        DJANGO_SUPERUSER_PASSWORD="not-used-here",
    )
    run = {"env": env, "capture_output": True, "text": True, "check": True, "timeout": 120}
    subprocess.run([COMMAND, "migrate", "-v0"], **run)
    subprocess.run([COMMAND, "createsuperuser", "--noinput"], **run)
    token = subprocess.run([COMMAND, "token", "create", "root@desk.example"], **run).stdout.strip()
    server = subprocess.Popen(
        [COMMAND, "run", "--web-only"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        status, _, body = _call(
            f"{base}/api/v1/tickets",
            token=token,
            body={
                "subject": "Over HTTP",
                "requester_email": "ola@kunde.example",
                "urgency": 2,
                "impact": 2,
            },
        )
        assert status == 201, body
        number = json.loads(body)["number"]
        status, headers, body = _call(f"{base}/api/v1/tickets/{number}", token=token)
        assert status == 200 and json.loads(body)["subject"] == "Over HTTP"
        etag = headers["ETag"]
        status, _, _ = _call(
            f"{base}/api/v1/tickets/{number}/status",
            token=token,
            body={"status": "open"},
            headers={"If-Match": '"stale"'},
        )
        assert status == 412
        status, _, _ = _call(
            f"{base}/api/v1/tickets/{number}/status",
            token=token,
            body={"status": "open"},
            headers={"If-Match": etag},
        )
        assert status == 200
        assert _call(f"{base}/api/v1/tickets")[0] == 401
        status, _, page = _call(f"{base}/api/v1/docs")
        assert status == 200 and b"swagger-ui-bundle.js" in page
        assert _call(f"{base}/static/ninja/swagger-ui-bundle.js")[0] == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
