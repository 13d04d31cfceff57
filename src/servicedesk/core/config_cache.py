"""A process-local memo for configuration read on every ticket and rarely changed: priority
bands, the intake group, SLA policies, targets and calendars.

Saving or deleting a watched model clears it in this process at once; other processes
(web workers, the worker) see a change within ``TTL`` seconds. Never cache data that
belongs to a ticket here.
"""

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models.signals import post_delete, post_save

TTL = 30.0
T = TypeVar("T")
_entries: dict[Any, tuple[float, Any]] = {}


def memo(key: Any, load: Callable[[], T]) -> T:
    now = time.monotonic()
    hit = _entries.get(key)
    if hit is not None and now - hit[0] < TTL:
        return hit[1]
    value = load()
    _entries[key] = (now, value)
    return value


def clear(**kwargs) -> None:
    _entries.clear()


def watch(*models, only: Callable[[Any], bool] | None = None) -> None:
    """Clear the memo whenever one of ``models`` is saved or deleted (``only``: when that
    instance passes the test, e.g. staff among users, so new customer contacts cost nothing)."""

    def changed(sender, instance=None, **kwargs) -> None:
        if only is None or only(instance):
            clear()

    for model in models:
        post_save.connect(
            changed, sender=model, weak=False, dispatch_uid=f"config-{model.__name__}"
        )
        post_delete.connect(
            changed, sender=model, weak=False, dispatch_uid=f"config-del-{model.__name__}"
        )
