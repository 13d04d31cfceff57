"""`servicedesk run` and `servicedesk demo` both migrate first: started together on a new
data directory, they take turns instead of both creating the same tables."""

import os
import subprocess
import sys
from pathlib import Path

COMMAND = str(Path(sys.executable).parent / "servicedesk")
MIGRATE = "from servicedesk.ops import maintenance; maintenance.migrate(verbosity=0)"


def test_two_processes_migrating_a_new_data_directory_at_once_both_succeed(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SERVICEDESK_DATA_DIR"] = str(tmp_path)
    both = [
        subprocess.Popen(
            [COMMAND, "shell", "-c", MIGRATE],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in both]

    assert [code for code, _ in results] == [0, 0], results
    check = subprocess.run(
        [COMMAND, "migrate", "--check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stdout + check.stderr
