"""The queue's rows, the SLA cell and the ticket's thread, written in Python: the queue page is the page agents
load most, and 25 rows of template tags (includes, url reversals, translations, date filters,
per row) were half its cost; the thread of the ticket page likewise. The HTML is what the templates wrote; the words are looked up
once per page, not once per row."""

from datetime import datetime, timedelta

from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

from servicedesk.core import labels
from servicedesk.desk.queues import SlaCell
from servicedesk.tickets.models import Channel, StatusChoices
from servicedesk.tickets.selectors import ThreadEntry

_SHORT = "j M H:i"


def business_left(value: timedelta | None) -> str:
    """Business time left as an agent reads it: "2 h 15 min left", "45 min overdue"."""
    if value is None:
        return ""
    minutes = int(abs(value.total_seconds()) // 60)
    hours, minutes = divmod(minutes, 60)
    amount = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    if value < timedelta(0):
        return gettext("%(amount)s overdue") % {"amount": amount}
    return gettext("%(amount)s left") % {"amount": amount}


class _Times:
    """Times as the templates' ``date`` filter writes them ("26 Nov 12:38" in the reader's
    zone and language, with the ISO form for ``datetime``), month names looked up once."""

    def __init__(self) -> None:
        self.months = {n: str(MONTHS_3[n]).title() for n in MONTHS_3}

    def __call__(self, value: datetime, css: str = "") -> str:
        local = template_localtime(value)
        shown = f"{local.day} {self.months[local.month]} {local:%H:%M}"
        attr = f' class="{css}"' if css else ""
        return f'<time datetime="{local.isoformat()}"{attr}>{escape(shown)}</time>'


def _state_words() -> dict[str, str]:
    return {
        "paused": gettext("paused"),
        "breached": gettext("breached"),
        "warning": gettext("warning"),
        "ok": gettext("ok"),
        "met": gettext("met"),
    }


def sla_cell(cell: SlaCell | None, words: dict[str, str] | None = None, times=None) -> SafeString:
    """The SLA column: its state in a word and a colour, the business time left, the due time."""
    if cell is None:
        return SafeString("")
    words = words or _state_words()
    parts = []
    if cell.paused or cell.state != "none":
        word = words["paused"] if cell.paused else words.get(cell.state, "")
        parts.append(f'<span class="sla sla-{escape(cell.css)}">{escape(word)}</span>')
    if cell.left is not None:
        parts.append(f' <span class="left">{escape(business_left(cell.left))}</span>')
    if cell.due_at:
        parts.append(" " + (times or _Times())(cell.due_at, "due"))
    return mark_safe("".join(parts))


def queue_rows(rows, *, vendor_column: bool, priorities: dict) -> SafeString:
    """The ``<tr>`` of a queue page: ``rows`` are (ticket, SLA cell) pairs."""
    if not rows:
        return format_html(
            '<tr><td colspan="{}" class="muted">{}</td></tr>',
            10 if vendor_column else 9,
            gettext("No tickets here."),
        )
    page = _Page(vendor_column, priorities)
    return mark_safe("\n".join(page.row(t, cell) for t, cell in rows))


class _Page:
    """What every row of one page shares: the words, the link's start, the month names."""

    def __init__(self, vendor_column: bool, priorities: dict) -> None:
        self.vendor_column = vendor_column
        self.priorities = priorities
        self.words = _state_words()
        self.select = gettext("Select %(ref)s")
        self.none, self.overdue = gettext("none"), gettext("overdue")
        self.base = reverse("desk:ticket", args=[0]).removesuffix("0/")
        self.times = _Times()
        self.statuses = {value: str(label) for value, label in StatusChoices.choices}
        self.priority_words = {
            key: labels.shown(label) for key, label in priorities.items()
        }  # the words once a page, not once a row

    def row(self, t, cell) -> str:
        ref = escape(t.reference)
        priority = (
            (self.priority_words.get(t.priority) or labels.shown(t.priority)) if t.priority else "—"
        )
        score = f' <span class="muted">({t.score})</span>' if t.score else ""
        organisation = (t.organisation.name if t.organisation_id else "") or "—"
        assignee = (t.assignee.display_name if t.assignee_id else "") or "—"
        label = escape(self.select % {"ref": t.reference})
        cells = [
            f'<td><input type="checkbox" name="tickets" value="{t.number}" id="pick-{t.number}"'
            f' aria-label="{label}"></td>',
            f'<td><a href="{self.base}{t.number}/">{ref}</a></td>',
            f"<td>{escape(t.subject)}</td>",
            f"<td>{escape(organisation)}</td>",
            f"<td>{escape(self.statuses.get(t.status, t.status))}</td>",
            f"<td>{escape(priority)}{score}</td>",
            f"<td>{escape(assignee)}</td>",
        ]
        if self.vendor_column:
            cells.append(self._vendor_cell(t))
        cells.append(f"<td>{sla_cell(cell, self.words, self.times)}</td>")
        cells.append(f"<td>{self.times(t.updated_at)}</td>")
        return "<tr>" + "".join(cells) + "</tr>"

    def _vendor_cell(self, t) -> str:
        promised = getattr(t, "vendor_promised_by", None)
        late = getattr(t, "vendor_overdue", False)
        if promised:
            inner = self.times(promised)
        elif not late:
            inner = f'<span class="muted">{escape(self.none)}</span>'
        else:
            inner = ""
        if late:
            inner += f' <span class="state overdue">{escape(self.overdue)}</span>'
        return f"<td>{inner}</td>"


def thread(entries: list[ThreadEntry]) -> SafeString:
    """The ``<li>`` of a ticket's thread, public replies and internal notes set apart."""
    if not entries:
        return format_html('<li class="muted">{}</li>', gettext("No replies yet."))
    kinds = {True: ("note", gettext("Internal note")), False: ("reply", gettext("Public reply"))}
    automation = gettext("the desk (automation)")
    channels = dict(Channel.choices)
    download = reverse("attachment-download", args=[0]).removesuffix("0/")
    times = _Times()
    items = []
    for c in entries:
        css, kind = kinds[bool(c.internal)]
        files = "".join(
            f'<li><a href="{download}{pk}/">{escape(name)}</a>'
            f' <span class="muted">{escape(filesizeformat(size))}</span></li>'
            for pk, name, size in c.files
        )
        items.append(
            f'<li class="entry {css}" id="c{c.pk}">\n<header>\n'
            f'<span class="kind">{escape(kind)}</span>\n'
            f"<strong>{escape(c.author or automation)}</strong>\n"
            f"{times(c.created_at)}\n"
            f'<span class="muted">{escape(channels.get(c.channel, c.channel))}</span>\n'
            f"</header>\n"
            f'<div class="body">{linebreaksbr(c.body, autoescape=True)}</div>\n'
            + (f'<ul class="files">{files}</ul>\n' if files else "")
            + "</li>"
        )
    return mark_safe("\n".join(items))
