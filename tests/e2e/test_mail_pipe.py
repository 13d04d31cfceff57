"""``servicedesk mail ingest`` as an MTA runs it: one message on standard input, a fresh
process each time, exit 0 once the message is safely kept, 75 (try again later) when it
could not be stored."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.mail.conftest import CORPUS

COMMAND = str(Path(sys.executable).parent / "servicedesk")


def _env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the embedded default
    env.update(SERVICEDESK_DATA_DIR=str(data_dir), **extra)
    return env


def _pipe(raw: bytes, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [COMMAND, "mail", "ingest", "--json"], input=raw, env=env, capture_output=True, timeout=60
    )


def test_piped_messages_are_kept_once_each_with_an_exit_status_the_mta_understands(tmp_path):
    env = _env(tmp_path)
    subprocess.run([COMMAND, "migrate", "-v0"], env=env, check=True, timeout=120)
    message = (CORPUS / "zammad" / "mail037.box").read_bytes()

    first = _pipe(message, env)
    again = _pipe(message, env)
    garbage = _pipe(b"\x00\xff not a mail at all", env)

    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["outcome"] == "created"
    assert json.loads(again.stdout)["outcome"] == "duplicate"
    assert garbage.returncode == 0  # kept in quarantine: the MTA must not bounce or retry
    assert json.loads(garbage.stdout)["outcome"] == "quarantined"


def test_when_the_database_is_down_the_mta_is_told_to_retry(tmp_path):
    env = _env(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:9/nothing")

    result = _pipe((CORPUS / "zammad" / "mail037.box").read_bytes(), env)

    assert result.returncode == 75
    assert b"not stored" in result.stderr
