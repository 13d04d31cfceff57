"""With SERVICEDESK_TASKS_BACKEND=rq, the scheduler enqueues on Redis and the worker runs the
jobs (a real Redis on loopback, in its own database number)."""

import os
import subprocess
import sys
from pathlib import Path

import redis

from servicedesk.schedule import SCHEDULE

REDIS_URL = "redis://127.0.0.1:6379/13"


def test_the_scheduler_and_worker_run_the_periodic_jobs_on_redis(tmp_path):
    redis.Redis.from_url(REDIS_URL).flushdb()
    command = str(Path(sys.executable).parent / "servicedesk")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        SERVICEDESK_DATA_DIR=str(tmp_path), SERVICEDESK_TASKS_BACKEND="rq", REDIS_URL=REDIS_URL
    )

    def run(*args):
        return subprocess.run(
            [command, *args], env=env, capture_output=True, text=True, timeout=120, check=True
        )

    run("migrate", "-v0")
    run("scheduler", "--once")
    queued = redis.Redis.from_url(REDIS_URL).llen("rq:queue:default")
    worker = run("worker", "--batch")

    output = worker.stdout + worker.stderr
    assert queued == len(SCHEDULE)  # each periodic job once
    assert "path=servicedesk.sla.tasks.sweep_sla state=SUCCESSFUL" in output
    assert "path=servicedesk.mail.tasks.send_due_outbox state=SUCCESSFUL" in output
    assert "path=servicedesk.mail.tasks.poll_mailboxes state=SUCCESSFUL" in output
    assert "path=servicedesk.api.tasks.deliver_due_webhooks state=SUCCESSFUL" in output
    assert "path=servicedesk.tickets.tasks.sweep_closing state=SUCCESSFUL" in output
    assert "path=servicedesk.escalation.tasks.sweep_vendor_promises state=SUCCESSFUL" in output
    assert "path=servicedesk.ops.tasks.analyze_database state=SUCCESSFUL" in output
    assert "path=servicedesk.ops.tasks.remove_orphan_files state=SUCCESSFUL" in output
    assert redis.Redis.from_url(REDIS_URL).llen("rq:queue:default") == 0
