"""Fixtures shared with the mail tests: a real SMTP server."""

from tests.mail.conftest import smtp  # noqa: F401
