"""Small helpers for the desk's templates: no logic beyond presentation."""

from django import template
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from servicedesk.core import labels
from servicedesk.desk import rows

register = template.Library()


@register.filter
def get(mapping, key):
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


register.filter("business_left", rows.business_left)


@register.simple_tag
def sla_cell(cell):
    return rows.sla_cell(cell)


@register.simple_tag
def thread_entries(entries):
    return rows.thread(entries)


@register.simple_tag
def queue_rows(items, vendor_column, priorities):
    return rows.queue_rows(items, vendor_column=vendor_column, priorities=priorities)


@register.filter
def priority_label(key: str, priorities: dict) -> str:
    return labels.shown(priorities.get(key, key)) if key else "—"


@register.filter
def with_page(query: str, number: int) -> str:
    return f"{query}&page={number}" if query else f"page={number}"


@register.simple_tag(takes_context=True)
def sortlink(context, key: str, label: str):
    """A column heading that sorts by ``key``, saying which way it is sorted now."""
    current = context.get("sort", "sla")
    query = context.get("sort_query", "")
    href = "?" + "&".join(part for part in (query, urlencode({"sort": key})) if part)
    if current == key:
        return format_html(
            '<a href="{}">{} <span aria-hidden="true">▲</span>'
            '<span class="visually-hidden">({})</span></a>',
            href,
            label,
            _("sorted"),
        )
    return format_html('<a href="{}">{}</a>', href, label)


@register.filter
def clock_label(kind: str) -> str:
    from servicedesk.sla.models import ClockKind

    return str(ClockKind(kind).label) if kind in ClockKind.values else kind


@register.filter
def when(value) -> str:
    from servicedesk.desk.history import when as moment

    return moment(value) if value else "—"


@register.filter
def shown(name: str) -> str:
    """A name the desk shipped (a support group, a category) in the reader's language."""
    return labels.shown(name) if name else ""
