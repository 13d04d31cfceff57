"""Template helpers for the desk's change request pages: presentation only."""

from django import template

from servicedesk.changes.words import hours_words

register = template.Library()


@register.filter
def hours(value) -> str:
    """An effort estimate as the reader writes it: "12.5 h" (or "12,5 h")."""
    return hours_words(value) if value is not None else "—"
