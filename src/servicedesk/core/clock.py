"""The one seam through which the product reads the time. Tests freeze it with time-machine."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return timezone.now()
