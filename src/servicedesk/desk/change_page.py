"""A change request's page on the desk: the whole record, editable in sections
(``update_change``), the implementation plan (``set_plan``), the stage moves the table
offers (``move_stage``), the approval, and the history in words. Thin: each action parses a
form and calls one service; a refusal is shown with its reason and changes nothing."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from servicedesk.changes import selectors, services, workflow
from servicedesk.changes.models import ChangeRequest
from servicedesk.changes.workflow import Stage
from servicedesk.core.errors import DomainError
from servicedesk.desk import change_history
from servicedesk.desk.change_forms import (
    SECTIONS,
    STAGE_LABELS,
    ConvertForm,
    PlanFormSet,
    StageForm,
    section_initial,
)
from servicedesk.desk.views import _refused, _ticket_or_404, staff_required


def change_or_404(request, number: str) -> ChangeRequest:
    """CR ``number`` (``1042`` or ``CR-1042``) as the agent may see it, else 404."""
    try:
        return selectors.find_change(request.user, number)
    except DomainError:
        raise Http404 from None


def moves(change: ChangeRequest) -> tuple[list[Stage], list[tuple[str, str]]]:
    """The stages staff may move ``change`` to now, and the ones the gates still hold back
    with why (the administrator's decision is no move of theirs: not listed)."""
    current, facts = Stage(change.stage), change.facts
    allowed = workflow.allowed_moves(current, facts)
    held = [
        (str(STAGE_LABELS[to]), refusal.localized())
        for (source, to), move in workflow.TRANSITIONS.items()
        if source == current
        and not move.decision
        and (refusal := workflow.gate(to, facts)) is not None
    ]
    return allowed, held


def _plan_initial(change: ChangeRequest) -> list[dict]:
    return [
        {
            "description": s.description,
            "due_on": s.due_on,
            "responsible": s.responsible,
            "done": s.done,
        }
        for s in change.steps.all()
    ]


def _page(request, change: ChangeRequest, *, bound=None, plan=None, status: int = 200):
    """The CR page; ``bound``: (section, form) an agent sent back with its errors."""
    sections = {}
    for name, (form_class, heading) in SECTIONS.items():
        if bound is not None and bound[0] == name:
            form = bound[1]
        else:
            form = form_class(initial=section_initial(change, form_class), prefix=name)
        sections[name] = {"form": form, "heading": heading, "open": form.is_bound}
    allowed, held = moves(change)
    awaiting = change.stage == Stage.AWAITING_APPROVAL
    context = {
        "section": "changes",
        "change": change,
        "sections": sections,
        "plan": plan or PlanFormSet(initial=_plan_initial(change), prefix="plan"),
        "steps": list(change.steps.all()),
        "allowed": [(s.value, STAGE_LABELS[s.value]) for s in allowed],
        "held": held,
        "stage_label": STAGE_LABELS[change.stage],
        "awaiting": awaiting,
        "administrators": list(services.administrators(change.organisation_id)) if awaiting else [],
        "may_mark_urgent": not change.urgent and Stage(change.stage) in workflow.NOT_YET_APPROVED,
        "history": change_history.lines(selectors.history(change)),
    }
    return render(request, "desk/changes/change.html", context, status=status)


@require_GET
@staff_required
def page(request, number: str):
    change = change_or_404(request, number)
    if not number.isdigit():  # CR-1042 and the like: the canonical address
        return redirect("desk:change", number=change.number)
    return _page(request, change)


def _back_to(change: ChangeRequest, anchor: str = ""):
    url = reverse("desk:change", args=[change.number])
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_POST
@staff_required
def edit(request, number: str, part: str):
    """Save one section of the record (only its fields) through ``update_change``."""
    change = change_or_404(request, number)
    if part not in SECTIONS:
        raise Http404
    form_class, heading = SECTIONS[part]
    form = form_class(request.POST, prefix=part)
    if not form.is_valid():
        return _page(request, change, bound=(part, form), status=400)
    try:
        services.update_change(change=change, by=request.user, **form.cleaned_data)
    except DomainError as error:
        form.add_error(None, error.localized())
        return _page(request, change, bound=(part, form), status=409)
    messages.success(request, _("%(section)s saved.") % {"section": heading})
    return _back_to(change, part)


@require_POST
@staff_required
def plan(request, number: str):
    """Replace the implementation plan with the steps kept (``set_plan``)."""
    change = change_or_404(request, number)
    formset = PlanFormSet(request.POST, prefix="plan")
    if not formset.is_valid():
        return _page(request, change, plan=formset, status=400)
    steps = [
        services.Step(
            description=form.cleaned_data["description"],
            due_on=form.cleaned_data["due_on"],
            responsible=form.cleaned_data["responsible"],
            done=form.cleaned_data["done"],
        )
        for form in formset
        if form.kept
    ]
    try:
        services.set_plan(change=change, steps=steps, by=request.user)
    except DomainError as error:
        _refused(request, error)
        return _page(request, change, plan=formset, status=409)
    messages.success(request, _("Implementation plan saved."))
    return _back_to(change, "plan")


@require_POST
@staff_required
def stage(request, number: str):
    """Move the CR to another stage from its page (``move_stage``)."""
    change = change_or_404(request, number)
    form = StageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a stage."))
        return _page(request, change, status=400)
    try:
        services.move_stage(
            change=change,
            to=form.cleaned_data["to"],
            by=request.user,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        _refused(request, error)
        return _page(request, change, status=409)
    messages.success(
        request,
        _("%(reference)s moved to %(stage)s.")
        % {"reference": change.reference, "stage": STAGE_LABELS[form.cleaned_data["to"]]},
    )
    return _back_to(change)


@require_POST
@staff_required
def urgent(request, number: str):
    """Mark the CR urgent: the organisation's administrators are asked at once."""
    change = change_or_404(request, number)
    try:
        services.mark_urgent(change=change, by=request.user)
        messages.success(request, _("Marked urgent: the administrators are asked at once."))
    except DomainError as error:
        _refused(request, error)
    return _back_to(change)


@require_POST
@staff_required
def convert(request, number: str):
    """Turn the ticket into a change request in one step and land on the new CR."""
    ticket = _ticket_or_404(request, number)
    form = ConvertForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the change request's scope."))
        return redirect("desk:ticket", number=ticket.number)
    try:
        change = services.convert_ticket(
            ticket=ticket,
            by=request.user,
            scope=form.cleaned_data["scope"],
            reason=form.cleaned_data["note"],
        )
    except DomainError as error:
        _refused(request, error)
        return redirect("desk:ticket", number=ticket.number)
    messages.success(
        request,
        _("%(ticket)s is now change request %(change)s; the ticket is closed.")
        % {"ticket": ticket.reference, "change": change.reference},
    )
    return redirect("desk:change", number=change.number)
