"""Real mail servers on loopback for the mail tests: aiosmtpd (SMTP) and dovecot (IMAP)."""

from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.ports import free_port, start_dovecot, stop_dovecot

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


@pytest.fixture
def dovecot():
    """A throwaway dovecot IMAP server with one user, ``desk`` / ``secret``."""
    try:
        directory, port = start_dovecot()
    except RuntimeError as error:
        pytest.fail(f"{error} (.ci/run installs dovecot-imapd)")

    class Server:
        host, user, password = "127.0.0.1", "desk", "secret"

    server = Server()
    server.port = port
    yield server
    stop_dovecot(directory)
