"""``servicedesk run``: migrate, then serve web (gunicorn), worker and scheduler together.

Production runs the same three as separate processes; this keeps one command for a desk
on one machine. If any of the three stops, the others are stopped too.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from servicedesk.ops import maintenance


class Command(BaseCommand):
    help = "Apply migrations and run web (gunicorn, WEB_CONCURRENCY workers), worker and scheduler."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--no-migrate", action="store_true", help="skip applying migrations")
        parser.add_argument(
            "--web-only", action="store_true", help="serve the web only, no worker or scheduler"
        )

    def handle(self, *args, host: str, port: int, no_migrate: bool, web_only: bool, **options):
        if not no_migrate:
            maintenance.migrate(verbosity=1)
        bin_dir = os.path.dirname(sys.executable)
        workers = os.environ.get("WEB_CONCURRENCY") or str(2 * (os.cpu_count() or 1) + 1)
        gunicorn = shutil.which("gunicorn", path=bin_dir) or "gunicorn"
        servicedesk = shutil.which("servicedesk", path=bin_dir) or "servicedesk"
        commands = {
            "web": [
                gunicorn,
                "servicedesk.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                workers,
                "--access-logfile",
                "-",
            ],
        }
        if not web_only and settings.SERVICEDESK_TASKS_BACKEND != "immediate":
            commands["worker"] = [servicedesk, "worker"]
            commands["scheduler"] = [servicedesk, "scheduler"]
        self.stdout.write(
            f"Serving on http://{host}:{port}/ with {workers} web workers; running: "
            + ", ".join(commands)
        )
        self.stdout.flush()
        children = {name: subprocess.Popen(argv) for name, argv in commands.items()}
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping and all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.terminate()
            for child in children.values():
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [
            name for name, child in children.items() if child.returncode not in (0, -15, None)
        ]
        if failed and not stopping:
            sys.exit(f"stopped because {', '.join(failed)} exited")
