"""Real mail servers on loopback for the mail tests: aiosmtpd (SMTP) and dovecot (IMAP)."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.ports import free_port

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "email"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server; ``smtp.start()`` / ``smtp.stop()`` bring it up and down."""
    port = free_port()
    inbox = Inbox()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER = "127.0.0.1", port, ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5

    class Server:
        controller = None
        received = inbox.messages

        def start(self):
            self.controller = Controller(inbox, hostname="127.0.0.1", port=port)
            self.controller.start()

        def stop(self):
            if self.controller:
                self.controller.stop()
                self.controller = None

    server = Server()
    yield server
    server.stop()


DOVECOT_CONF = """
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%n/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%n
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@pytest.fixture
def dovecot():
    """A throwaway dovecot IMAP server with one user, ``desk`` / ``secret``. Its directory is
    outside pytest's private (0700) temporary tree: dovecot's auth process runs as its own
    user and must read the password file."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(binary).exists():
        pytest.fail("dovecot is not installed: apt-get install -y dovecot-imapd (.ci/run does)")
    directory = Path(tempfile.mkdtemp(prefix="sd-dovecot-"))
    directory.chmod(0o755)
    port = free_port()
    account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    for sub in ("run", "state", "mail"):
        (directory / sub).mkdir()
    if os.geteuid() == 0:
        os.chown(directory / "mail", account.pw_uid, account.pw_gid)
    (directory / "passwd").write_text("desk:{PLAIN}secret\n")
    conf = directory / "dovecot.conf"
    conf.write_text(
        DOVECOT_CONF.format(dir=directory, port=port, uid=account.pw_uid, gid=account.pw_gid)
    )
    subprocess.run([binary, "-c", str(conf)], check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        pytest.fail("dovecot did not start: " + (directory / "dovecot.log").read_text())

    class Server:
        host, user, password = "127.0.0.1", "desk", "secret"

    server = Server()
    server.port = port
    yield server
    subprocess.run([binary, "-c", str(conf), "stop"], check=False)
    shutil.rmtree(directory, ignore_errors=True)
