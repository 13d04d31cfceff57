"""The ticket workflow (SPEC §3) as a pure transition table.

``check_transition`` is the only judge of a status move; every caller (services for the
admin, the API, email, tasks) goes through it and shows its error as it is.
"""

from dataclasses import dataclass
from enum import StrEnum

from servicedesk.core.errors import Conflict, Term, gettext_noop


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    WAITING_ON_THIRD_PARTY = "waiting_on_third_party"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Actor(StrEnum):
    STAFF = "staff"
    CUSTOMER = "customer"
    SYSTEM = "system"  # the desk's own automation: auto-close, customer-reply re-open


LABELS: dict[Status, str] = {
    Status.NEW: gettext_noop("New"),
    Status.OPEN: gettext_noop("Open"),
    Status.IN_PROGRESS: gettext_noop("In progress"),
    Status.WAITING_ON_CUSTOMER: gettext_noop("Waiting on customer"),
    Status.WAITING_ON_THIRD_PARTY: gettext_noop("Waiting on third party"),
    Status.RESOLVED: gettext_noop("Resolved"),
    Status.CLOSED: gettext_noop("Closed"),
}

# Statuses in which a ticket is still being worked on (SLA clocks, queues).
ACTIVE: frozenset[Status] = frozenset(Status) - {Status.RESOLVED, Status.CLOSED}


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"


@dataclass(frozen=True)
class Rule:
    actors: frozenset[Actor]
    needs_reason: bool = False


_STAFF = frozenset({Actor.STAFF})
_STAFF_SYSTEM = frozenset({Actor.STAFF, Actor.SYSTEM})
_EVERYONE = frozenset(Actor)

S = Status
# (from, to) -> who may make the move. Anything absent is forbidden. Nothing moves back to
# "new"; closing unresolved work needs a reason (spam, duplicate, withdrawn); a closed
# ticket must be re-opened before anyone works on it again.
TRANSITIONS: dict[tuple[Status, Status], Rule] = {
    (S.NEW, S.OPEN): Rule(_STAFF),
    (S.NEW, S.IN_PROGRESS): Rule(_STAFF),
    (S.NEW, S.WAITING_ON_CUSTOMER): Rule(_STAFF),
    (S.NEW, S.WAITING_ON_THIRD_PARTY): Rule(_STAFF),
    (S.NEW, S.RESOLVED): Rule(_STAFF),
    (S.NEW, S.CLOSED): Rule(_STAFF, needs_reason=True),
    (S.OPEN, S.IN_PROGRESS): Rule(_STAFF),
    (S.OPEN, S.WAITING_ON_CUSTOMER): Rule(_STAFF),
    (S.OPEN, S.WAITING_ON_THIRD_PARTY): Rule(_STAFF),
    (S.OPEN, S.RESOLVED): Rule(_STAFF),
    (S.OPEN, S.CLOSED): Rule(_STAFF, needs_reason=True),
    (S.IN_PROGRESS, S.OPEN): Rule(_STAFF),
    (S.IN_PROGRESS, S.WAITING_ON_CUSTOMER): Rule(_STAFF),
    (S.IN_PROGRESS, S.WAITING_ON_THIRD_PARTY): Rule(_STAFF),
    (S.IN_PROGRESS, S.RESOLVED): Rule(_STAFF),
    (S.IN_PROGRESS, S.CLOSED): Rule(_STAFF, needs_reason=True),
    # The customer's reply resumes the clock: that is the desk's automation, or a customer.
    (S.WAITING_ON_CUSTOMER, S.OPEN): Rule(_EVERYONE),
    (S.WAITING_ON_CUSTOMER, S.IN_PROGRESS): Rule(_STAFF),
    (S.WAITING_ON_CUSTOMER, S.WAITING_ON_THIRD_PARTY): Rule(_STAFF),
    (S.WAITING_ON_CUSTOMER, S.RESOLVED): Rule(_STAFF),
    (S.WAITING_ON_CUSTOMER, S.CLOSED): Rule(_STAFF_SYSTEM, needs_reason=True),
    (S.WAITING_ON_THIRD_PARTY, S.OPEN): Rule(_STAFF),
    (S.WAITING_ON_THIRD_PARTY, S.IN_PROGRESS): Rule(_STAFF),
    (S.WAITING_ON_THIRD_PARTY, S.WAITING_ON_CUSTOMER): Rule(_STAFF),
    (S.WAITING_ON_THIRD_PARTY, S.RESOLVED): Rule(_STAFF),
    (S.WAITING_ON_THIRD_PARTY, S.CLOSED): Rule(_STAFF, needs_reason=True),
    # A resolved ticket awaits the customer's confirmation (closed) or their reply (open).
    (S.RESOLVED, S.OPEN): Rule(_EVERYONE),
    (S.RESOLVED, S.IN_PROGRESS): Rule(_STAFF),
    (S.RESOLVED, S.CLOSED): Rule(_EVERYONE),
    # Re-opening a closed ticket is a deliberate act of the desk, or of its automation on
    # the customer's behalf within the re-open window (services.reopen), with a reason.
    (S.CLOSED, S.OPEN): Rule(_STAFF_SYSTEM, needs_reason=True),
}


def allowed_targets(current: Status, *, actor: Actor) -> list[Status]:
    """The statuses ``actor`` may move a ticket in ``current`` to, in workflow order."""
    return [
        to for to in Status if (rule := TRANSITIONS.get((current, to))) and actor in rule.actors
    ]


def check_transition(current: Status, to: Status, *, actor: Actor, reason: str = "") -> Rule:
    """Return the rule that allows the move, or raise ``TransitionNotAllowed`` saying why."""
    current, to = Status(current), Status(to)
    names = {"current": Term(LABELS[current]), "to": Term(LABELS[to])}
    if current == to:
        raise TransitionNotAllowed(gettext_noop("The ticket is already %(to)s."), **names)
    rule = TRANSITIONS.get((current, to))
    if rule is None:
        if current == Status.CLOSED:
            raise TransitionNotAllowed(
                gettext_noop("A ticket cannot move from %(current)s to %(to)s. Re-open it first."),
                **names,
            )
        raise TransitionNotAllowed(
            gettext_noop("A ticket cannot move from %(current)s to %(to)s."), **names
        )
    if actor not in rule.actors:
        raise TransitionNotAllowed(
            gettext_noop("Only the support desk can move a ticket from %(current)s to %(to)s."),
            **names,
        )
    if rule.needs_reason and not reason.strip():
        raise TransitionNotAllowed(
            gettext_noop("Moving a ticket from %(current)s to %(to)s needs a reason."), **names
        )
    return rule


def status_after_customer_reply(current: Status) -> Status | None:
    """Where a customer's public reply takes the ticket, or None if it stays put.

    A reply re-opens a resolved ticket and resumes one that waited on the customer. A closed
    ticket does not re-open by itself: the caller files the reply as a follow-up instead.
    """
    if current in (Status.RESOLVED, Status.WAITING_ON_CUSTOMER):
        return Status.OPEN
    return None
