"""``{% rating_for ticket request.user as rating %}``: what ``portal/_rating.html`` needs, so
the include works on any page that has a ticket (``rating.can``: may rate it now;
``rating.current``: their rating so far, or None)."""

from django import template

from servicedesk.tickets.closing_services import may_rate
from servicedesk.tickets.models import Rating

register = template.Library()


@register.simple_tag
def rating_for(ticket, user) -> dict:
    if ticket is None or user is None or not user.is_authenticated or not may_rate(ticket, user):
        return {"can": False, "current": None}
    return {"can": True, "current": Rating.objects.filter(ticket=ticket, by=user).first()}
