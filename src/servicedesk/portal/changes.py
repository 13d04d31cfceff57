"""The customer's change requests in the portal (SPEC §7): the list, one CR's page with its
history, the administrator's decision (approve or not, with a comment), marking a CR
urgent, and requesting a change.

Thin, like the rest of the portal: each view parses a form, calls one service of
``changes.services`` and renders; a refusal is shown with its reason and changes nothing.
Every CR is found through ``changes.selectors.visible``: another organisation's CR (or, for
an end user, a colleague's) is a 404 by every path, never a 403.

What a customer sees of a CR: its request, stage, chargeable decision, effort estimate,
impact and risk (what the administrator weighs to decide), schedule and plan, decision, test
outcome and whether its objectives were met. Not shown: the desk's internal assessment notes
(feasibility, required resources), the owner, and the lessons learned.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicedesk.changes import selectors, services
from servicedesk.changes.models import ChangeRequest
from servicedesk.changes.workflow import NOT_YET_APPROVED, OPEN, Stage
from servicedesk.core.errors import DomainError, PermissionDenied
from servicedesk.portal import change_history
from servicedesk.portal.views import customer_required
from servicedesk.tickets.models import Product
from servicedesk.tickets.selectors import tickets_for

PAGE_SIZE = 20
COMMENT_LENGTH = 5000  # the service's limit
NOT_YET_APPROVED_VALUES = [s.value for s in NOT_YET_APPROVED]
OPEN_VALUES = [s.value for s in OPEN]


# -- forms ----------------------------------------------------------------------------------


class ChangeFilterForm(forms.Form):
    stage = forms.ChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        choices=[
            ("", gettext_lazy("All change requests")),
            ("not_yet_approved", gettext_lazy("Not yet approved")),
            ("open", gettext_lazy("Still open")),
            *ChangeRequest._meta.get_field("stage").choices,
        ],
    )


class DecisionForm(forms.Form):
    """The administrator's decision; ``approval_round`` is the round the page showed, so a
    decision taken on an estimate the desk has since revised is refused, not recorded."""

    decision = forms.ChoiceField(choices=[("approve", "approve"), ("unapprove", "unapprove")])
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        required=False,
        max_length=COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    approval_round = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    back = forms.ChoiceField(
        required=False, choices=[("", ""), ("report", "report")], widget=forms.HiddenInput
    )


class NewChangeForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=250,
        help_text=gettext_lazy("In a few words, such as “A field for the customer’s VAT number”."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("What should change, and why: what it will let you do."),
    )
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"),
        required=False,
        queryset=Product.objects.filter(is_active=True).order_by("name"),
        empty_label=gettext_lazy("(not sure)"),
    )
    urgent = forms.BooleanField(
        label=gettext_lazy("Urgent"),
        required=False,
        help_text=gettext_lazy(
            "Your organisation’s administrators are emailed at once to approve it."
        ),
    )


# -- helpers --------------------------------------------------------------------------------


def change_or_404(request, number: str) -> ChangeRequest:
    """The CR ``number`` (``12`` or ``CR-12``) as the signed-in customer may see it."""
    try:
        return selectors.find_change(request.user, number)
    except DomainError:
        raise Http404 from None


def may_see_report(user) -> bool:
    """The Change Request Update report is the administrators' and the loggers'."""
    return bool(user.sees_whole_organisation and user.organisation_id is not None)


def may_decide(user, change: ChangeRequest) -> bool:
    """Whether the page offers ``user`` the decision (the service judges it again)."""
    return change.stage == Stage.AWAITING_APPROVAL and services.is_administrator_of(
        user, change.organisation_id
    )


def _page_context(request, change: ChangeRequest, **extra) -> dict:
    user = request.user
    awaiting = change.stage == Stage.AWAITING_APPROVAL
    deciding = may_decide(user, change)
    return {
        "change": change,
        "steps": list(change.steps.all()),
        "history": change_history.lines(selectors.history(change)),
        "ticket_visible": bool(
            change.ticket_id and tickets_for(user).filter(pk=change.ticket_id).exists()
        ),
        "can_decide": deciding,
        "administrators": (
            list(services.administrators(change.organisation_id))
            if awaiting and not deciding
            else []
        ),
        "can_mark_urgent": not change.urgent and change.stage in NOT_YET_APPROVED,
        "decision_form": DecisionForm(),
        "zone": timezone.get_current_timezone_name(),
        "section": "changes",
        **extra,
    }


def _refused(request, change: ChangeRequest, error: DomainError, **extra):
    """The CR's page again, with the reason the service refused; nothing was changed."""
    status = 403 if isinstance(error, PermissionDenied) else 409
    context = _page_context(request, change, refusal=error.localized(), **extra)
    return render(request, "portal/change.html", context, status=status)


# -- the list -------------------------------------------------------------------------------


@require_GET
@customer_required
def change_list(request):
    """The CRs the customer may see; an administrator's awaiting their decision first."""
    user = request.user
    form = ChangeFilterForm(request.GET or None)
    rows = selectors.visible(user)
    if form.is_valid():
        chosen = form.cleaned_data["stage"]
        if chosen == "not_yet_approved":
            rows = rows.filter(stage__in=NOT_YET_APPROVED_VALUES)
        elif chosen == "open":
            rows = rows.filter(stage__in=OPEN_VALUES)
        elif chosen:
            rows = rows.filter(stage=chosen)
    awaiting = []
    if services.is_administrator_of(user, user.organisation_id):
        awaiting = list(
            selectors.visible(user)
            .filter(organisation_id=user.organisation_id, stage=Stage.AWAITING_APPROVAL)
            .order_by("approval_requested_at", "number")
        )
    page = Paginator(rows.order_by("-requested_at", "-number"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    keep = request.GET.copy()
    keep.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "awaiting": awaiting,
        "query": keep.urlencode(),
        "filtered": bool(request.GET.get("stage")),
        "may_see_report": may_see_report(user),
        "section": "changes",
    }
    return render(request, "portal/changes.html", context)


# -- one change request ---------------------------------------------------------------------


@require_GET
@customer_required
def change_page(request, number: str):
    change = change_or_404(request, number)
    if not number.isdigit():  # CR-12 and the like: the canonical address
        return redirect("portal:change", number=change.number)
    return render(request, "portal/change.html", _page_context(request, change))


@require_POST
@customer_required
def decide(request, number: str):
    """The administrator approves the CR, or not, with a comment (``changes.services.decide``:
    anyone else is refused, and nothing changes)."""
    change = change_or_404(request, number)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        context = _page_context(request, change, decision_form=form)
        return render(request, "portal/change.html", context, status=400)
    data = form.cleaned_data
    approved = data["decision"] == "approve"
    try:
        services.decide(
            change=change,
            approved=approved,
            by=request.user,
            comment=data["comment"],
            approval_round=data["approval_round"],
        )
    except DomainError as error:
        return _refused(request, change, error, decision_form=form)
    if approved:
        done = _("You approved %(change)s: we will schedule it and tell you when.")
    else:
        done = _("You did not approve %(change)s: it is kept, with your comment, for the record.")
    messages.success(request, done % {"change": change.reference})
    if data["back"] == "report":
        return redirect("portal:change-report")
    return redirect("portal:change", number=change.number)


@require_POST
@customer_required
def mark_urgent(request, number: str):
    """Any customer who may see a CR not yet approved may mark it urgent: the organisation's
    administrators are emailed at once (a subscriber of the service's event)."""
    change = change_or_404(request, number)
    try:
        services.mark_urgent(change=change, by=request.user)
    except DomainError as error:
        return _refused(request, change, error)
    if services.is_administrator_of(request.user, change.organisation_id):
        done = _("%(change)s is marked urgent.")
    else:
        done = _("%(change)s is marked urgent: your administrators are asked for their decision.")
    messages.success(request, done % {"change": change.reference})
    return redirect("portal:change", number=change.number)


# -- a new change request -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@customer_required
def new_change(request):
    """Request a change for the customer's own organisation, in their own name."""
    user = request.user
    if user.organisation_id is None:  # nobody to approve it: the desk is the way
        status = 400 if request.method == "POST" else 200
        context = {"no_organisation": True, "section": "changes"}
        return render(request, "portal/change_new.html", context, status=status)
    form = NewChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "GET" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(
            request, "portal/change_new.html", {"form": form, "section": "changes"}, status=status
        )
    data = form.cleaned_data
    try:
        change = services.open_change(
            organisation=user.organisation,
            requester=user,
            title=data["title"],
            description=data["description"],
            by=user,
            product=data["product"],
            urgent=data["urgent"],
        )
    except DomainError as error:
        form.add_error(None, error.localized())
        return render(
            request, "portal/change_new.html", {"form": form, "section": "changes"}, status=400
        )
    messages.success(
        request,
        _("Thank you: your change request %(change)s is logged. We will assess it and estimate it.")
        % {"change": change.reference},
    )
    return redirect("portal:change", number=change.number)


urlpatterns = [
    path("changes/", change_list, name="changes"),
    path("changes/new/", new_change, name="change-new"),
    path("changes/<str:number>/", change_page, name="change"),
    path("changes/<str:number>/decision/", decide, name="change-decision"),
    path("changes/<str:number>/urgent/", mark_urgent, name="change-urgent"),
]
