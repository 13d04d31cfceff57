"""A change request's values in words, in the reader's language (the portal's CR pages)."""

from django import template

from servicedesk.portal import change_history

register = template.Library()


@register.filter
def chargeable_words(value: bool | None) -> str:
    """Chargeable, not chargeable, or not decided yet."""
    return change_history.chargeable_words(value)


@register.filter
def hours_words(value) -> str:
    """An effort estimate: "12.5 hours", or not estimated yet."""
    return change_history.hours_words(value)
