"""The signed one-click Approve / Not approve links of an approval request (SPEC §7).

A token names the CR, the administrator it was sent to, the decision and the approval
round; it expires after SERVICEDESK_LINK_DAYS and works once: the decision takes the CR out
of "awaiting approval", and a later round (re-submitted) makes the old links worthless.
The page a link opens confirms the action before it takes effect (mail scanners follow
links), see ``core.links``.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from servicedesk.accounts.models import User
from servicedesk.changes.models import ChangeRequest
from servicedesk.core.links import BadLink, sign, unsign

PURPOSE = "change-approval"


def approval_token(change: ChangeRequest, administrator: User, *, approved: bool) -> str:
    return sign(
        PURPOSE,
        {"c": change.pk, "u": administrator.pk, "a": approved, "r": change.approval_round},
    )


@dataclass(frozen=True)
class ApprovalLink:
    change: ChangeRequest
    administrator: User
    approved: bool
    approval_round: int


def read_approval_token(token: str) -> ApprovalLink:
    """What a valid token asks; ``BadLink`` if it is tampered with, expired or not for an
    active administrator of the CR's organisation."""
    payload = unsign(PURPOSE, token, max_age=timedelta(days=settings.SERVICEDESK_LINK_DAYS))
    approved, approval_round = payload.get("a"), payload.get("r")
    if not isinstance(approved, bool) or not isinstance(approval_round, int):
        raise BadLink
    change = (
        ChangeRequest.objects.select_related("organisation", "requester")
        .filter(pk=payload.get("c"))
        .first()
    )
    administrator = User.objects.filter(pk=payload.get("u"), is_active=True).first()
    if change is None or administrator is None:
        raise BadLink
    if administrator.is_staff or administrator.organisation_id != change.organisation_id:
        raise BadLink
    return ApprovalLink(change, administrator, approved, approval_round)
