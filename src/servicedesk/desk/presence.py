"""Who else has a ticket open, and who is typing a reply: the collision notice. Each ticket
page polls every few seconds; a poll older than ``GONE`` means the agent left. Kept in the
database, not a per-process cache, so every web worker sees every agent."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from servicedesk.desk.models import Presence

GONE = timedelta(seconds=30)  # the page polls every 10 s
TYPING = timedelta(seconds=12)


@dataclass(frozen=True)
class Watcher:
    name: str
    typing: bool


def seen(ticket, user, *, now: datetime, typing: bool = False) -> None:
    defaults = {"seen_at": now}
    if typing:
        defaults["typing_at"] = now
    Presence.objects.update_or_create(ticket=ticket, user=user, defaults=defaults)


def stopped_typing(ticket, user) -> None:
    Presence.objects.filter(ticket=ticket, user=user).update(typing_at=None)


def others(ticket, user, *, now: datetime) -> list[Watcher]:
    rows = (
        Presence.objects.filter(ticket=ticket, seen_at__gte=now - GONE)
        .exclude(user=user)
        .select_related("user")
        .only("typing_at", "user__full_name", "user__email")  # what the notice shows
        .order_by("user__full_name", "user__email")
    )
    return [
        Watcher(
            name=row.user.display_name,
            typing=row.typing_at is not None and row.typing_at >= now - TYPING,
        )
        for row in rows
    ]
