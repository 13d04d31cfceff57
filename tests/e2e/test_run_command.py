"""`servicedesk run` on a fresh data dir: migrates, serves /health, and runs the worker and
the scheduler beside the web server (the scheduler's first SLA sweep gets done)."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.ports import free_port


def _finished_sweeps(database: Path) -> int:
    try:
        with sqlite3.connect(database) as conn:
            return conn.execute(
                "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult"
                " WHERE task_path = 'servicedesk.sla.tasks.sweep_sla' AND status = 'SUCCESSFUL'"
            ).fetchone()[0]
    except sqlite3.Error:
        return 0


def test_run_migrates_a_fresh_data_dir_serves_health_and_runs_background_work(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the embedded default
    env.update(SERVICEDESK_DATA_DIR=str(tmp_path), PORT=str(port), WEB_CONCURRENCY="1")
    command = Path(sys.executable).parent / "servicedesk"
    server = subprocess.Popen(
        [str(command), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/health", timeout=2
                ) as response:
                    body = response.read().decode()
            except OSError:
                time.sleep(0.3)

        assert body is not None, "the server never answered /health"
        assert '"status": "ok"' in body
        assert (tmp_path / "servicedesk.sqlite3").exists()
        assert (tmp_path / "secret_key").exists()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _finished_sweeps(
            tmp_path / "servicedesk.sqlite3"
        ):
            time.sleep(0.5)
        assert _finished_sweeps(tmp_path / "servicedesk.sqlite3") >= 1
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
