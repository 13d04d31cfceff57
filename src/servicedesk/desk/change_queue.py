"""The desk's change request queue (open CRs by default; by stage, organisation, owner,
urgency; counts per stage) and the page that opens a CR directly (``changes.services.
open_change``). Thin: reads through ``changes.selectors``, writes through the services."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from servicedesk.accounts.models import Organisation
from servicedesk.changes import selectors, services, workflow
from servicedesk.core.errors import DomainError
from servicedesk.desk.change_forms import (
    ALL_STAGES,
    OPEN_STAGES,
    STAGE_LABELS,
    ChangeFilterForm,
    NewChangeForm,
)
from servicedesk.desk.views import staff_required

PAGE_SIZE = 25
SORTS = {
    "-requested": ("-requested_at", "-number"),
    "requested": ("requested_at", "number"),
}
DEFAULT_SORT = "-requested"


def narrowed(rows, data: dict):
    """``rows`` narrowed by the queue's filters, all but the stage (the counts' base)."""
    if data.get("organisation") is not None:
        rows = rows.filter(organisation=data["organisation"])
    if data.get("owner"):
        rows = rows.filter(**data["owner"])
    if data.get("urgent"):
        rows = rows.filter(urgent=True)
    return rows


def _in_stage(rows, stage: str):
    if stage == ALL_STAGES:
        return rows
    if stage in STAGE_LABELS:
        return rows.filter(stage=stage)
    return rows.open()


@require_GET
@staff_required
def queue(request):
    form = ChangeFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    stage = data.get("stage") or OPEN_STAGES
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    base = narrowed(selectors.visible(request.user), data)
    counts = selectors.count_by_stage(base)
    rows = _in_stage(base, stage).order_by(*SORTS[sort])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    keep.pop("page", None)
    sort_query = keep.copy()
    sort_query.pop("sort", None)
    stage_query = keep.copy()
    stage_query.pop("stage", None)
    open_count = sum(n for s, n in counts.items() if workflow.Stage(s) in workflow.OPEN)
    context = {
        "section": "changes",
        "form": form,
        "page": page,
        "stage": stage,
        "stage_label": _stage_title(stage),
        "stages": [(s, STAGE_LABELS[s], n) for s, n in counts.items()],
        "open_count": open_count,
        "all_count": sum(counts.values()),
        "sort": sort,
        "query": keep.urlencode(),
        "sort_query": sort_query.urlencode(),
        "stage_query": stage_query.urlencode(),
        "labels": STAGE_LABELS,
    }
    return render(request, "desk/changes/queue.html", context)


def _stage_title(stage: str) -> str:
    if stage == ALL_STAGES:
        return _("All change requests")
    if stage in STAGE_LABELS:
        return str(STAGE_LABELS[stage])
    return _("Open change requests")


def _organisation(value) -> Organisation | None:
    text = str(value or "")
    if not (text.isascii() and text.isdigit()):
        return None
    return Organisation.objects.filter(pk=int(text)).first()


@require_http_methods(["GET", "POST"])
@staff_required
def new(request):
    """Open a CR for a customer: organisation, requester among its contacts, what they ask."""
    source = request.POST if request.method == "POST" else request.GET
    organisation = _organisation(source.get("organisation"))
    if request.method == "GET":
        return _new_page(request, NewChangeForm(initial=source.dict(), organisation=organisation))
    form = NewChangeForm(request.POST, organisation=organisation)
    if not form.is_valid():
        return _new_page(request, form, status=400)
    data = form.cleaned_data
    try:
        change = services.open_change(
            organisation=data["organisation"],
            requester=data["requester"],
            title=data["title"],
            description=data["description"],
            by=request.user,
            product=data["product"],
            scope=data["scope"],
            urgent=data["urgent"],
        )
    except DomainError as error:
        form.add_error(None, error.localized())
        return _new_page(request, form, status=409)
    messages.success(request, _("%(reference)s opened.") % {"reference": change.reference})
    return redirect("desk:change", number=change.number)


def _new_page(request, form: NewChangeForm, *, status: int = 200):
    return render(
        request, "desk/changes/new.html", {"form": form, "section": "changes"}, status=status
    )


@require_GET
@staff_required
def requesters(request):
    """The requester field for the organisation just chosen (htmx)."""
    organisation = _organisation(request.GET.get("organisation"))
    if request.GET.get("organisation") and organisation is None:
        raise Http404
    form = NewChangeForm(organisation=organisation)
    return render(request, "desk/changes/_requester.html", {"field": form["requester"]})
