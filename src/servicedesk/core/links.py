"""Signed, expiring links: one click from an email to the page it is about.

A token is Django's signed payload (``signing``, keyed by SECRET_KEY) with a purpose of its
own as salt, so a token made for one purpose (a login, a rating…) is refused for another,
and an age limit. A login token also carries the person's ``last_login``: signing in with it
changes that, so the link works once (as Django's password reset tokens do with the
password hash). Pages that act on a token show what will happen and act on a POST: mail
scanners that follow links must not use them up.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing

LOGIN = "login"


class BadLink(Exception):
    """The token is tampered with, expired, used or not for this purpose."""


def sign(purpose: str, payload: dict[str, Any]) -> str:
    return signing.dumps(payload, salt=f"servicedesk.links.{purpose}", compress=True)


def unsign(purpose: str, token: str, *, max_age: timedelta) -> dict[str, Any]:
    try:
        payload = signing.loads(
            token, salt=f"servicedesk.links.{purpose}", max_age=max_age.total_seconds()
        )
    except (signing.BadSignature, ValueError, TypeError):  # SignatureExpired included
        raise BadLink from None
    if not isinstance(payload, dict):
        raise BadLink
    return payload


def _stamp(user) -> str:
    return user.last_login.isoformat() if user.last_login else ""


def login_token(user, *, ticket_number: int | None = None) -> str:
    """A token that signs ``user`` in once (and opens ``ticket_number`` if given)."""
    return sign(LOGIN, {"u": user.pk, "t": ticket_number, "s": _stamp(user)})


def read_login_token(token: str):
    """(user, ticket number or None) for a valid, unused login token; ``BadLink`` if not."""
    from servicedesk.accounts.models import User

    payload = unsign(LOGIN, token, max_age=timedelta(days=settings.SERVICEDESK_LINK_DAYS))
    user = User.objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None or user.is_staff or payload.get("s") != _stamp(user):
        raise BadLink  # staff sign in with their password only
    number = payload.get("t")
    return user, number if isinstance(number, int) else None


def absolute(path: str) -> str:
    """``path`` on the desk's public address (SERVICEDESK_BASE_URL), for emails."""
    return settings.SERVICEDESK_BASE_URL.rstrip("/") + path
