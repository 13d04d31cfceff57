"""The kanban board of change requests: CRs in columns by stage. A card moves by drag and
drop or by its "Move to…" menu, both through ``changes.services.move_stage`` and the ticket
board's ``answer_move``: a move the stage table or a gate refuses is refused with its
reason, and the card snaps back. The administrator's decision is no move: never offered."""

from datetime import timedelta

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from servicedesk.changes import selectors, services, workflow
from servicedesk.changes.workflow import Stage
from servicedesk.core import clock
from servicedesk.desk.board import answer_move
from servicedesk.desk.change_forms import STAGE_LABELS, ChangeFilterForm
from servicedesk.desk.change_page import change_or_404
from servicedesk.desk.change_queue import narrowed
from servicedesk.desk.views import staff_required

PER_COLUMN = 50
# Closed CRs pile up for ever: the board shows the recently closed, like resolved tickets.
RECENTLY_CLOSED = timedelta(days=30)
# Each column's order: the next due first where there is a schedule, else the oldest.
_ORDER = {
    Stage.APPROVED: ("scheduled_for", "requested_at", "number"),
    Stage.TESTING: ("scheduled_for", "requested_at", "number"),
    Stage.IMPLEMENTATION: ("scheduled_for", "requested_at", "number"),
    Stage.UNAPPROVED: ("-decided_at", "-number"),
    Stage.CLOSED: ("-closed_at", "-number"),
}


@require_GET
@staff_required
def board(request):
    form = ChangeFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = narrowed(selectors.visible(request.user), data)
    since = clock.now() - RECENTLY_CLOSED
    columns = []
    for stage in Stage:
        column = rows.filter(stage=stage)
        if stage == Stage.CLOSED:
            column = column.filter(closed_at__gte=since)
        order = _ORDER.get(stage, ("requested_at", "number"))
        cards = list(column.order_by(*order)[:PER_COLUMN])
        columns.append(
            {
                "status": stage.value,
                "label": STAGE_LABELS[stage.value],
                # each card's own moves: the gates look at its facts (estimate, decision…)
                "cards": [(c, workflow.allowed_moves(stage, c.facts)) for c in cards],
            }
        )
    context = {
        "section": "changes",
        "columns": columns,
        "move_url": "desk:change-move",
        "labels": STAGE_LABELS,
        "form": form,
    }
    return render(request, "desk/changes/board.html", context)


@require_POST
@staff_required
def move(request, number: str):
    """Move one CR's card (the ticket board's ``answer_move``)."""
    change = change_or_404(request, number)

    def move_stage(to: str) -> str:
        services.move_stage(change=change, to=to, by=request.user)
        return str(STAGE_LABELS[to])

    return answer_move(
        request, reference=change.reference, move=move_stage, board=reverse("desk:change-board")
    )
