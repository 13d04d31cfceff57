"""The stages of a change request (SPEC §7) as a pure transition table, with its gates.

``check_move`` is the only judge of a stage move; the services, the desk's board, the API
and the portal all go through it and show its error as it is. Approved and unapproved are
the customer administrator's decision (``services.decide``), never a plain move; an
unapproved CR is kept for traceability and may be re-submitted.
"""

from dataclasses import dataclass
from enum import StrEnum

from servicedesk.core.errors import Conflict, Term, gettext_noop


class Stage(StrEnum):
    REQUESTED = "requested"
    ASSESSMENT = "assessment"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    UNAPPROVED = "unapproved"
    TESTING = "testing"
    IMPLEMENTATION = "implementation"
    REVIEW = "review"
    CLOSED = "closed"


LABELS: dict[Stage, str] = {
    Stage.REQUESTED: gettext_noop("Requested"),
    Stage.ASSESSMENT: gettext_noop("Assessment"),
    Stage.AWAITING_APPROVAL: gettext_noop("Awaiting approval"),
    Stage.APPROVED: gettext_noop("Approved (scheduled)"),
    Stage.UNAPPROVED: gettext_noop("Unapproved"),
    Stage.TESTING: gettext_noop("Testing (UAT)"),
    Stage.IMPLEMENTATION: gettext_noop("Implementation"),
    Stage.REVIEW: gettext_noop("Review"),
    Stage.CLOSED: gettext_noop("Closed"),
}

# Not yet approved: what the monthly Change Request Update report lists.
NOT_YET_APPROVED: frozenset[Stage] = frozenset(
    {Stage.REQUESTED, Stage.ASSESSMENT, Stage.AWAITING_APPROVAL}
)
# Still being worked on: the CR queue and the board.
OPEN: frozenset[Stage] = frozenset(Stage) - {Stage.CLOSED, Stage.UNAPPROVED}


class StageNotAllowed(Conflict):
    code = "stage_not_allowed"


@dataclass(frozen=True)
class Facts:
    """What the gates look at: the CR's fields that some moves need."""

    has_estimate: bool  # an effort estimate in hours
    chargeable_decided: bool  # chargeable or not, decided
    approved: bool  # the administrator's decision is "approved"
    reviewed: bool  # the post-implementation review is written


@dataclass(frozen=True)
class Move:
    decision: bool = False  # made by the administrator's decision, not by a plain move


S = Stage
# (from, to) -> the move. Anything absent is forbidden.
TRANSITIONS: dict[tuple[Stage, Stage], Move] = {
    (S.REQUESTED, S.ASSESSMENT): Move(),
    (S.ASSESSMENT, S.AWAITING_APPROVAL): Move(),
    (S.AWAITING_APPROVAL, S.ASSESSMENT): Move(),  # taken back to revise the estimate
    (S.AWAITING_APPROVAL, S.APPROVED): Move(decision=True),
    (S.AWAITING_APPROVAL, S.UNAPPROVED): Move(decision=True),
    (S.UNAPPROVED, S.ASSESSMENT): Move(),  # re-assessed before it is re-submitted
    (S.UNAPPROVED, S.AWAITING_APPROVAL): Move(),  # re-submitted as it is
    (S.APPROVED, S.TESTING): Move(),
    (S.TESTING, S.APPROVED): Move(),  # UAT failed: back to the schedule
    (S.TESTING, S.IMPLEMENTATION): Move(),
    (S.APPROVED, S.IMPLEMENTATION): Move(),
    (S.IMPLEMENTATION, S.TESTING): Move(),
    (S.IMPLEMENTATION, S.REVIEW): Move(),
    (S.REVIEW, S.CLOSED): Move(),
}


def gate(to: Stage, facts: Facts) -> "StageNotAllowed | None":
    """The refusal saying why ``facts`` do not allow entering ``to``, or None."""
    if to == S.AWAITING_APPROVAL and not (facts.has_estimate and facts.chargeable_decided):
        return StageNotAllowed(
            gettext_noop(
                "A change request goes for approval only with an effort estimate and the "
                "chargeable decision."
            )
        )
    if to in (S.TESTING, S.IMPLEMENTATION) and not facts.approved:
        return StageNotAllowed(
            gettext_noop("A change request is implemented only once it is approved.")
        )
    if to == S.CLOSED and not facts.reviewed:
        return StageNotAllowed(
            gettext_noop("A change request closes only after its post-implementation review.")
        )
    return None


def check_move(current: Stage, to: Stage, facts: Facts, *, by_decision: bool = False) -> Move:
    """Return the move from ``current`` to ``to``, or raise ``StageNotAllowed`` saying why.
    ``by_decision``: the administrator's decision is making it (approved / unapproved)."""
    current, to = Stage(current), Stage(to)
    names = {"current": Term(LABELS[current]), "to": Term(LABELS[to])}
    move = TRANSITIONS.get((current, to))
    if current == to:
        raise StageNotAllowed(gettext_noop("The change request is already %(to)s."), **names)
    if move is None:
        raise StageNotAllowed(
            gettext_noop("A change request cannot move from %(current)s to %(to)s."), **names
        )
    if move.decision and not by_decision:
        raise StageNotAllowed(
            gettext_noop(
                "Only the organisation's administrator approves a change request, "
                "or not: ask for their decision."
            )
        )
    if (refusal := gate(to, facts)) is not None:
        raise refusal
    return move


def allowed_moves(current: Stage, facts: Facts) -> list[Stage]:
    """The stages staff may move a CR in ``current`` to now, in stage order (the board)."""
    return [
        to
        for to in Stage
        if (move := TRANSITIONS.get((Stage(current), to)))
        and not move.decision
        and gate(to, facts) is None
    ]


@dataclass(frozen=True)
class Route:
    vendor_id: int | None
    assignee_id: int | None


def route(*, customisation: bool, vendor_id: int | None, project_lead_id: int | None) -> Route:
    """Who takes a new CR (SPEC §3): on standard software the product's vendor, on a
    customisation (or software without a vendor) the organisation's project lead."""
    if not customisation and vendor_id:
        return Route(vendor_id=vendor_id, assignee_id=None)
    return Route(vendor_id=None, assignee_id=project_lead_id)
