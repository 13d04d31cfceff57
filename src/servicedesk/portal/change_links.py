"""The pages of the one-click Approve / Not approve links of the approval emails (SPEC §7):
``/portal/changes/decide/<token>/``.

The token (``changes.links``) names the CR, the administrator it was mailed to, the decision
and the approval round. GET shows the CR and the decision asked, with a comment box and a
Confirm button, and changes nothing (mail scanners follow links); only the POST records the
decision, through ``changes.services.decide`` in the administrator's name. The page is in the
administrator's language and time zone: they may not be signed in.

Refused, with a page that says why and nothing changed: a tampered or expired token (400);
a link of an earlier approval round, or of a CR no longer awaiting a decision (used, decided
by someone else, taken back by the desk), or of someone no longer its organisation's
administrator (410); someone else's link while signed in (404, as the rating links).
"""

import contextlib
import zoneinfo

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods

from servicedesk.changes import services
from servicedesk.changes.links import ApprovalLink, read_approval_token
from servicedesk.changes.workflow import Stage
from servicedesk.core.errors import DomainError
from servicedesk.core.links import BadLink

COMMENT_LENGTH = 5000  # as the service allows


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        required=False,
        max_length=COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def _speak_as(request, link: ApprovalLink) -> None:
    """The administrator's language and time zone, unless they are signed in (their own
    session already says which)."""
    if request.user.is_authenticated:
        return
    administrator = link.administrator
    translation.activate(administrator.language or settings.LANGUAGE_CODE)
    request.LANGUAGE_CODE = translation.get_language()
    with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.activate(zoneinfo.ZoneInfo(administrator.timezone))


def _why_not(link: ApprovalLink) -> str:
    """Why this valid link may no longer decide its CR ("" if it may)."""
    change = link.change
    if not services.is_administrator_of(link.administrator, change.organisation_id):
        return "not_administrator"
    if link.approval_round != change.approval_round:
        return "superseded"  # a newer request for approval was sent
    if change.stage != Stage.AWAITING_APPROVAL:
        return "decided" if change.decision else "withdrawn"
    return ""


def _refused(request, reason: str, link: ApprovalLink | None = None, *, status: int):
    context = {"reason": reason, "change": link.change if link else None}
    return render(request, "portal/change_link_refused.html", context, status=status)


def _refused_as_it_stands(request, token: str):
    try:
        link = read_approval_token(token)
    except BadLink:
        return _refused(request, "invalid", status=400)
    return _refused(request, _why_not(link) or "withdrawn", link, status=410)


@sensitive_variables("token")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def decide_by_link(request, token: str):
    """GET: the CR and the decision asked, to confirm; POST: record it, and say so."""
    try:
        link = read_approval_token(token)
    except BadLink:
        return _refused(request, "invalid", status=400)
    if request.user.is_authenticated and request.user.pk != link.administrator.pk:
        return _refused(request, "not_yours", status=404)  # not theirs to use
    _speak_as(request, link)
    reason = _why_not(link)
    if reason:
        return _refused(request, reason, link, status=410)
    context = {"change": link.change, "approved": link.approved, "link": link}
    if request.method == "GET":
        return render(request, "portal/change_decide.html", {**context, "form": DecisionForm()})
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/change_decide.html", {**context, "form": form}, status=400)
    try:
        change = services.decide(
            change=link.change,
            approved=link.approved,
            by=link.administrator,
            comment=form.cleaned_data["comment"],
            approval_round=link.approval_round,
        )
    except DomainError:
        # Decided in the meantime (another administrator, or a second click): say what now.
        return _refused_as_it_stands(request, token)
    return render(request, "portal/change_decide.html", {**context, "change": change, "done": True})


urlpatterns = [path("changes/decide/<str:token>/", decide_by_link, name="change-decide")]
