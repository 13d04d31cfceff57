"""Change requests made through the services, at any point of their life, like real ones."""

from decimal import Decimal

from servicedesk.accounts.models import User
from servicedesk.changes import services
from servicedesk.changes.models import ChangeRequest
from servicedesk.changes.workflow import Stage


def make_change(*, requester: User, by: User | None = None, **fields) -> ChangeRequest:
    """A CR of ``requester``'s organisation, opened by ``by`` (the requester unless told)."""
    fields.setdefault("title", "Add a 'Contract end' field to companies")
    fields.setdefault("description", "Sales want to see when each contract ends.")
    fields.setdefault("organisation", requester.organisation)
    return services.open_change(requester=requester, by=by or requester, **fields)


def assessed(change: ChangeRequest, *, by: User, hours: str = "12.5") -> ChangeRequest:
    """In assessment, with an effort estimate and the chargeable decision."""
    if change.stage == Stage.REQUESTED:
        change = services.move_stage(change=change, to=Stage.ASSESSMENT, by=by)
    return services.update_change(
        change=change, by=by, effort_hours=Decimal(hours), chargeable=True
    )


def awaiting_approval(change: ChangeRequest, *, by: User) -> ChangeRequest:
    change = assessed(change, by=by)
    return services.move_stage(change=change, to=Stage.AWAITING_APPROVAL, by=by)


def approved(change: ChangeRequest, *, by: User, administrator: User) -> ChangeRequest:
    change = awaiting_approval(change, by=by)
    return services.decide(change=change, approved=True, by=administrator)
