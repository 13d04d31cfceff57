"""The desk's search page: a ticket number goes straight to the ticket (``views.go``);
words find tickets of any status through the full-text index (``search.query.find``): best
match first, each with a snippet of its text around the words found."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from servicedesk.core import clock
from servicedesk.desk import queues
from servicedesk.desk.views import staff_required
from servicedesk.search import query
from servicedesk.tickets import selectors

PER_PAGE = 25


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 7 else 1


@require_GET
@staff_required
def search(request):
    text = request.GET.get("q", "").strip()[:200]
    wanted = _page_number(request.GET.get("page"))
    hits, total = query.find(request.user, text, limit=PER_PAGE, offset=(wanted - 1) * PER_PAGE)
    # The paginator only numbers the pages: the hits are read for the page alone.
    page = Paginator(range(total), PER_PAGE).get_page(wanted)
    if page.number != wanted:  # past the last page: show the last one
        hits, total = query.find(
            request.user, text, limit=PER_PAGE, offset=(page.number - 1) * PER_PAGE
        )
    cells = queues.sla_cells([h.ticket for h in hits], now=clock.now())
    return render(
        request,
        "desk/search.html",
        {
            "q": text,
            "page": page,
            "rows": [(h.ticket, cells[h.ticket.pk], h.snippet) for h in hits],
            "priorities": selectors.priority_labels(),
        },
    )
