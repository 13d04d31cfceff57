"""Template helpers for the desk's change request pages: presentation only."""

from django import template

from servicedesk.desk.change_history import hours as effort

register = template.Library()


@register.filter
def hours(value) -> str:
    """An effort estimate as the reader writes it: "12.5 h" (or "12,5 h")."""
    return effort(value) if value is not None else "—"
