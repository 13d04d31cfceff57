"""API tokens: made for a user, shown once, stored as a digest, revocable."""

import hashlib
import hmac
import secrets

from servicedesk.accounts.models import User
from servicedesk.api.models import ApiToken
from servicedesk.core import clock
from servicedesk.core.errors import NotFound

PREFIX = "sd_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``: (the stored row, the token itself, shown only now)."""
    if not user.is_active:
        raise NotFound("No active user with that address.")
    prefix = secrets.token_hex(6)
    token = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken.objects.create(
        user=user, name=name[:100], prefix=prefix, digest=_digest(token), created_at=clock.now()
    )
    return row, token


def authenticate(token: str) -> ApiToken | None:
    """The live token row for ``token`` (with its user), or None."""
    if not token.startswith(PREFIX) or token.count("_") < 2:
        return None
    prefix = token[len(PREFIX) :].split("_", 1)[0]
    row = (
        ApiToken.objects.select_related("user", "user__organisation")
        .filter(prefix=prefix, revoked_at=None)
        .first()
    )
    if row is None or not hmac.compare_digest(row.digest, _digest(token)):
        return None
    if not row.user.is_active:
        return None
    return row


def revoke(*, prefix: str) -> ApiToken:
    row = ApiToken.objects.filter(prefix=prefix, revoked_at=None).first()
    if row is None:
        raise NotFound(f"No live token {prefix}.")
    row.revoked_at = clock.now()
    row.save(update_fields=["revoked_at"])
    return row
