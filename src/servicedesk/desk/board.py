"""The kanban board: open tickets in columns by status. A card moves by drag and drop or by
its "Move to…" menu, both through ``tickets.services.change_status``: a move the workflow
refuses is refused here too, with its reason, and the card goes back."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from servicedesk.core import clock
from servicedesk.core.errors import DomainError
from servicedesk.desk import queues
from servicedesk.desk.forms import FilterForm
from servicedesk.desk.views import _filtered, _ticket_or_404, staff_required
from servicedesk.tickets import selectors, services
from servicedesk.tickets.models import StatusChoices
from servicedesk.tickets.workflow import Actor, Status, allowed_targets

COLUMNS = [*queues.OPEN, Status.RESOLVED]
PER_COLUMN = 50


@require_GET
@staff_required
def board(request):
    now = clock.now()
    form = FilterForm(request.GET or None)
    rows = _filtered(selectors.tickets_for(request.user), form).select_related(
        "assignee", "organisation"
    )
    columns = []
    for status in COLUMNS:
        targets = allowed_targets(Status(status), actor=Actor.STAFF)  # the same for a column
        cards = list(rows.filter(status=status).order_by("sla_due_at", "number")[:PER_COLUMN])
        columns.append(
            {
                "status": status,
                "label": StatusChoices(status).label,
                "cards": [(card, targets) for card in cards],
            }
        )
    cells = queues.sla_cells([c for col in columns for c, _ in col["cards"]], now=now)
    return render(
        request,
        "desk/board.html",
        {
            "columns": columns,
            "move_url": "desk:move",
            "cells": cells,
            "form": form,
            "labels": dict(StatusChoices.choices),
            "priorities": selectors.priority_labels(),
        },
    )


@require_POST
@staff_required
def move(request, number: str):
    """Move one ticket's card (``answer_move``)."""
    ticket = _ticket_or_404(request, number)

    def change_status(to: str) -> str:
        services.change_status(ticket=ticket, to=to, by=request.user)
        return StatusChoices(to).label

    return answer_move(
        request, reference=ticket.reference, move=change_status, board=reverse("desk:board")
    )


def answer_move(request, *, reference: str, move: Callable[[str], str], board: str):
    """Move one card with ``move(to)``, a service call that returns the new column's name,
    and answer as the card asked. From the board's script: 204, or 409 with the reason as
    text (the card snaps back). From the menu without script: back to ``board`` (with its
    filters) with a message. Every board (tickets, change requests) moves this way."""
    scripted = request.headers.get("X-Requested-With") == "fetch"
    try:
        label = move(request.POST.get("to", ""))
    except DomainError as error:
        reason = error.localized()
        if scripted:
            return HttpResponse(reason, status=409, content_type="text/plain; charset=utf-8")
        messages.error(request, f"{reference}: {reason}")
        return redirect(_back(request, board))
    if scripted:
        return HttpResponse(status=204)
    messages.success(request, f"{reference}: {label}")
    return redirect(_back(request, board))


def _back(request, board: str) -> str:
    back = request.POST.get("back", "")
    return back if back.startswith(board) else board
