"""Who else wants to know that ticket events were recorded (webhooks, later search).

The services record events and call ``events_recorded`` inside their transaction; listeners
register at start-up (``AppConfig.ready``). Keeps the ticket services free of imports from
the layers above them.
"""

from collections.abc import Callable, Sequence

_listeners: list[Callable[[Sequence], None]] = []


def subscribe(listener: Callable[[Sequence], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def events_recorded(events: Sequence) -> None:
    if not events:
        return
    for listener in _listeners:
        listener(events)
