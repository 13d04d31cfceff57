"""The generic transport of facts: services publish the events of a change, the subscribers
declared in ``servicedesk.subscribers`` react to them in the same transaction.

``hints`` carry what a channel knows that the events do not say and a subscriber may use
(the Message-ID a new ticket answers, the clocks just planned, so they are not read again).
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.utils.module_loading import import_string

from servicedesk.subscribers import SUBSCRIBERS


@functools.cache
def _handlers() -> tuple[tuple[frozenset[str] | None, Callable], ...]:
    return tuple((s.kinds, import_string(s.handler)) for s in SUBSCRIBERS)


def publish(events: Sequence, **hints: Any) -> None:
    """Hand the events of one change to every subscriber that wants some of them.
    Call inside the change's transaction, after the events are saved."""
    if not events:
        return
    for kinds, handler in _handlers():
        chosen = events if kinds is None else [e for e in events if e.kind in kinds]
        if chosen:
            handler(chosen, hints)
