"""The service-level rules as tables (SPEC §5): what each status move does to a ticket's
clocks, and the state a clock and a ticket show. Pure: plain values, no Django, no ORM.

``sla.services`` applies ``MOVES``; ``sla.selectors`` and the API read states through
``clock_state`` and ``ticket_state``. Both are tested as tables, like the workflow.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from servicedesk.tickets.workflow import ACTIVE, Status


class Effect(StrEnum):
    """What a status move does to the clocks; applied in this order."""

    END_PAUSE = "end_pause"  # the open pause ends: its time is added back
    RESUME_RESOLUTION = "resume_resolution"  # re-opened: the resolution clock runs again
    PAUSE_WAITING = "pause_waiting"  # a pause starts: waiting on the customer (every clock)
    MEET_RESOLUTION = "meet_resolution"  # the running resolution clock is met
    STOP_OTHERS = "stop_others"  # the other running clocks stop: nothing more is owed
    PAUSE_RESOLVED = "pause_resolved"  # a pause starts: resolved (added back if re-opened)
    STOP_ALL = "stop_all"  # closed: every running clock stops
    RECOMPUTE = "recompute"  # the running clocks' due times are computed again
    START_FOLLOW_UP = "start_follow_up"  # a new next-update cycle starts (if the target has one)


E = Effect
S = Status
NOTHING: frozenset[Effect] = frozenset()
# Into waiting on the customer: every clock holds (its due time unknown until the reply).
WAIT = frozenset({E.PAUSE_WAITING, E.RECOMPUTE})
# Out of waiting on the customer, still worked on: the time waited is added back.
ANSWERED = frozenset({E.END_PAUSE, E.RECOMPUTE})
# Resolved: the resolution target is met; first response and updates are owed no more; the
# time the customer takes to confirm is a pause, in case they re-open.
RESOLVE = frozenset({E.MEET_RESOLUTION, E.STOP_OTHERS, E.PAUSE_RESOLVED})
# Closed: nothing runs any more. A resolved pause stays open (closed after resolving), so a
# re-opening adds the whole time back to the resolution clock.
CLOSE = frozenset({E.STOP_ALL})
# Re-opened: the resolution clock resumes with the time resolved added back, and the
# customer is owed updates again.
REOPEN = frozenset({E.END_PAUSE, E.RESUME_RESOLUTION, E.RECOMPUTE, E.START_FOLLOW_UP})

# (old, new) -> the effects, for exactly the moves the workflow allows.
MOVES: dict[tuple[Status, Status], frozenset[Effect]] = {
    (S.NEW, S.OPEN): NOTHING,
    (S.NEW, S.IN_PROGRESS): NOTHING,
    (S.NEW, S.WAITING_ON_CUSTOMER): WAIT,
    (S.NEW, S.WAITING_ON_THIRD_PARTY): NOTHING,  # the desk still owes the customer
    (S.NEW, S.RESOLVED): RESOLVE,
    (S.NEW, S.CLOSED): CLOSE,
    (S.OPEN, S.IN_PROGRESS): NOTHING,
    (S.OPEN, S.WAITING_ON_CUSTOMER): WAIT,
    (S.OPEN, S.WAITING_ON_THIRD_PARTY): NOTHING,
    (S.OPEN, S.RESOLVED): RESOLVE,
    (S.OPEN, S.CLOSED): CLOSE,
    (S.IN_PROGRESS, S.OPEN): NOTHING,
    (S.IN_PROGRESS, S.WAITING_ON_CUSTOMER): WAIT,
    (S.IN_PROGRESS, S.WAITING_ON_THIRD_PARTY): NOTHING,
    (S.IN_PROGRESS, S.RESOLVED): RESOLVE,
    (S.IN_PROGRESS, S.CLOSED): CLOSE,
    (S.WAITING_ON_CUSTOMER, S.OPEN): ANSWERED,
    (S.WAITING_ON_CUSTOMER, S.IN_PROGRESS): ANSWERED,
    (S.WAITING_ON_CUSTOMER, S.WAITING_ON_THIRD_PARTY): ANSWERED,
    (S.WAITING_ON_CUSTOMER, S.RESOLVED): RESOLVE | {E.END_PAUSE},
    (S.WAITING_ON_CUSTOMER, S.CLOSED): CLOSE | {E.END_PAUSE},
    (S.WAITING_ON_THIRD_PARTY, S.OPEN): NOTHING,
    (S.WAITING_ON_THIRD_PARTY, S.IN_PROGRESS): NOTHING,
    (S.WAITING_ON_THIRD_PARTY, S.WAITING_ON_CUSTOMER): WAIT,
    (S.WAITING_ON_THIRD_PARTY, S.RESOLVED): RESOLVE,
    (S.WAITING_ON_THIRD_PARTY, S.CLOSED): CLOSE,
    (S.RESOLVED, S.OPEN): REOPEN,
    (S.RESOLVED, S.IN_PROGRESS): REOPEN,
    (S.RESOLVED, S.CLOSED): CLOSE,
    (S.CLOSED, S.OPEN): REOPEN,
}


def effects_of(old: Status | str, new: Status | str) -> list[Effect]:
    """The effects of moving from ``old`` to ``new``, in the order they apply. A move the
    workflow does not allow has none to give: ``KeyError``."""
    chosen = MOVES[(Status(old), Status(new))]
    return [effect for effect in Effect if effect in chosen]


def clocks_run_after(new: Status | str) -> bool:
    """Whether a ticket's clocks may still run (perhaps paused) once it is in ``new``."""
    return Status(new) in ACTIVE


# ---- States ----------------------------------------------------------------------------


class Outcome(StrEnum):
    RUNNING = "running"  # neither met nor stopped; perhaps paused
    MET = "met"
    STOPPED = "stopped"  # ended without being met (resolved or closed first)


class Moment(StrEnum):
    """How far a clock got: for a running clock as of now, for a met one when it was met,
    for a stopped one by what was recorded before it stopped."""

    BEFORE_WARNING = "before_warning"
    WARNING = "warning"
    PAST_DUE = "past_due"


class State(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"
    MET_LATE = "met_late"  # met, but after the due time
    STOPPED = "stopped"


# (outcome, moment) -> the state a clock shows.
CLOCK_STATES: dict[tuple[Outcome, Moment], State] = {
    (Outcome.RUNNING, Moment.BEFORE_WARNING): State.OK,
    (Outcome.RUNNING, Moment.WARNING): State.WARNING,
    (Outcome.RUNNING, Moment.PAST_DUE): State.BREACHED,
    (Outcome.MET, Moment.BEFORE_WARNING): State.MET,
    (Outcome.MET, Moment.WARNING): State.MET,  # in time is in time
    (Outcome.MET, Moment.PAST_DUE): State.MET_LATE,
    (Outcome.STOPPED, Moment.BEFORE_WARNING): State.STOPPED,
    (Outcome.STOPPED, Moment.WARNING): State.STOPPED,
    (Outcome.STOPPED, Moment.PAST_DUE): State.BREACHED,  # breached before it stopped
}


@dataclass(frozen=True)
class ClockFacts:
    """What is known of one clock (the columns of a ticket clock)."""

    due_at: datetime | None  # None while paused
    warn_at: datetime | None = None
    met_at: datetime | None = None
    warned_at: datetime | None = None  # recorded by the sweep
    breached_at: datetime | None = None  # recorded by the sweep
    stopped: bool = False

    @property
    def outcome(self) -> Outcome:
        if self.met_at is not None:
            return Outcome.MET
        return Outcome.STOPPED if self.stopped else Outcome.RUNNING

    @property
    def paused(self) -> bool:
        return self.outcome == Outcome.RUNNING and self.due_at is None


def _reached(moment: datetime | None, recorded: datetime | None, at: datetime | None) -> bool:
    """A warning or due moment counts once it was recorded, or once ``at`` reaches it."""
    return recorded is not None or (moment is not None and at is not None and at >= moment)


def moment_of(facts: ClockFacts, *, now: datetime) -> Moment:
    outcome = facts.outcome
    if outcome == Outcome.MET:  # judged when it was met; at the due minute is in time
        met_at, due_at = facts.met_at, facts.due_at
        if facts.breached_at is not None or (due_at is not None and met_at > due_at):
            return Moment.PAST_DUE
        at = met_at
    else:
        # A running clock is judged as of now; a stopped one only by what was recorded
        # before it stopped (when it stopped is not kept).
        at = now if outcome == Outcome.RUNNING else None
        if _reached(facts.due_at, facts.breached_at, at):
            return Moment.PAST_DUE
    if _reached(facts.warn_at, facts.warned_at, at):
        return Moment.WARNING
    return Moment.BEFORE_WARNING


def clock_state(facts: ClockFacts, *, now: datetime) -> State:
    """The state one clock shows at ``now``."""
    return CLOCK_STATES[(facts.outcome, moment_of(facts, now=now))]


def met_late(facts: ClockFacts) -> bool:
    """Met, and after its due time (the sweep recorded the breach, or the reply came later)."""
    return facts.outcome == Outcome.MET and moment_of(facts, now=facts.met_at) == Moment.PAST_DUE


class Overall(StrEnum):
    """A ticket's state, as the API's ``sla.state`` shows it."""

    NONE = "none"  # no clock, or none met nor running
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"  # nothing runs, and some target was met (in time or late)


# The worst state of the clocks still running wins; these are the only states they show.
_SEVERITY = {State.OK: Overall.OK, State.WARNING: Overall.WARNING, State.BREACHED: Overall.BREACHED}
SEVERITY_ORDER = (Overall.OK, Overall.WARNING, Overall.BREACHED)


@dataclass(frozen=True)
class TicketState:
    state: Overall
    paused: bool  # some running clock is held (waiting on the customer)


def ticket_state(clocks: Iterable[ClockFacts], *, now: datetime) -> TicketState:
    """The state of a ticket from its current clocks (the latest of each kind): the worst
    state of those still running; if none runs, ``met`` when some was met, else ``none``.
    A stopped clock says nothing of the ticket's state."""
    running, met = [], False
    for facts in clocks:
        if facts.outcome == Outcome.RUNNING:
            running.append(facts)
        met = met or facts.outcome == Outcome.MET
    if running:
        worst = max((_SEVERITY[clock_state(f, now=now)] for f in running), key=SEVERITY_ORDER.index)
        return TicketState(worst, any(f.paused for f in running))
    return TicketState(Overall.MET if met else Overall.NONE, False)
