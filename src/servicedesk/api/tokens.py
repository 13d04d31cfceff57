"""API tokens: made for a user, shown once, stored as a digest, revocable."""

import copy
import hashlib
import hmac
import secrets
import time

from django.utils.translation import gettext_noop

from servicedesk.accounts.models import User
from servicedesk.api.models import ApiToken
from servicedesk.core import clock
from servicedesk.core.errors import NotFound

PREFIX = "sd_"
# A token's row and user are kept this many seconds per process: a burst of requests reads
# them once. Revoking clears the entry at once in the revoking process; other processes
# (web workers) stop accepting the token within this time.
CACHE_SECONDS = 5.0
_CACHE_SIZE = 1024
_cache: dict[str, tuple[float, ApiToken]] = {}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``: (the stored row, the token itself, shown only now)."""
    if not user.is_active:
        raise NotFound(gettext_noop("No active user with that address."))
    prefix = secrets.token_hex(6)
    token = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken.objects.create(
        user=user, name=name[:100], prefix=prefix, digest=_digest(token), created_at=clock.now()
    )
    return row, token


def authenticate(token: str) -> ApiToken | None:
    """The live token row for ``token`` (with its user), or None. A copy: the caller may
    change it (last use) without changing what the next request gets."""
    if not token.startswith(PREFIX) or token.count("_") < 2:
        return None
    digest = _digest(token)
    now = time.monotonic()
    hit = _cache.get(digest)
    if hit is None or now - hit[0] > CACHE_SECONDS:
        row = _lookup(token, digest)
        if row is None:
            _cache.pop(digest, None)
            return None
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        hit = _cache[digest] = (now, row)
    row = copy.copy(hit[1])
    row.user = copy.copy(row.user)
    return row


def _lookup(token: str, digest: str) -> ApiToken | None:
    prefix = token[len(PREFIX) :].split("_", 1)[0]
    row = (
        ApiToken.objects.select_related("user", "user__organisation")
        .filter(prefix=prefix, revoked_at=None)
        .first()
    )
    if row is None or not hmac.compare_digest(row.digest, digest):
        return None
    if not row.user.is_active:
        return None
    return row


def forget_cached() -> None:
    _cache.clear()


def on_user_saved(sender, instance, created=False, **kwargs) -> None:
    """A user changed (deactivated, another role): their tokens are read again, at once in
    this process. A new contact has no token yet, so filing for one keeps the cache."""
    if not created:
        _cache.clear()


def revoke(*, prefix: str) -> ApiToken:
    row = ApiToken.objects.filter(prefix=prefix, revoked_at=None).first()
    if row is None:
        raise NotFound(gettext_noop("No live token %(prefix)s."), prefix=prefix)
    row.revoked_at = clock.now()
    row.save(update_fields=["revoked_at"])
    _cache.clear()  # this process stops at once; the others within CACHE_SECONDS
    return row
