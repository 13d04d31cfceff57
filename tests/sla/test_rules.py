"""The SLA rules as tables (pure, no database): the effects of every status move the workflow
allows, against a table written out by hand from the product rules (not read back from
``rules.MOVES``); the state of a clock and of a ticket; and properties over walks through the
workflow, checked by Hypothesis."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedesk.sla import rules
from servicedesk.sla.rules import (
    ClockFacts,
    Effect,
    Moment,
    Outcome,
    Overall,
    State,
    clock_state,
    effects_of,
    met_late,
    ticket_state,
)
from servicedesk.tickets.workflow import ACTIVE, TRANSITIONS, Status

NEW, OPEN, IN_PROGRESS = Status.NEW, Status.OPEN, Status.IN_PROGRESS
WAIT_CUSTOMER, WAIT_THIRD = Status.WAITING_ON_CUSTOMER, Status.WAITING_ON_THIRD_PARTY
RESOLVED, CLOSED = Status.RESOLVED, Status.CLOSED

END, RESUME = Effect.END_PAUSE, Effect.RESUME_RESOLUTION
PAUSE_WAIT, PAUSE_RESOLVED = Effect.PAUSE_WAITING, Effect.PAUSE_RESOLVED
MEET, STOP_OTHERS, STOP_ALL = Effect.MEET_RESOLUTION, Effect.STOP_OTHERS, Effect.STOP_ALL
RECOMPUTE, FOLLOW_UP = Effect.RECOMPUTE, Effect.START_FOLLOW_UP

# Working sideways (new, open, in progress, waiting on a third party) changes no clock: the
# desk still owes the customer. Waiting on the customer holds every clock; their answer adds
# the time back. Resolving meets the resolution target, ends what else was owed, and holds
# the resolution clock while the customer confirms. Closing stops everything. Re-opening
# resumes the resolution clock with the time resolved added back, and updates are owed again.
EXPECTED = {
    (NEW, OPEN): [],
    (NEW, IN_PROGRESS): [],
    (NEW, WAIT_CUSTOMER): [PAUSE_WAIT, RECOMPUTE],
    (NEW, WAIT_THIRD): [],
    (NEW, RESOLVED): [MEET, STOP_OTHERS, PAUSE_RESOLVED],
    (NEW, CLOSED): [STOP_ALL],
    (OPEN, IN_PROGRESS): [],
    (OPEN, WAIT_CUSTOMER): [PAUSE_WAIT, RECOMPUTE],
    (OPEN, WAIT_THIRD): [],
    (OPEN, RESOLVED): [MEET, STOP_OTHERS, PAUSE_RESOLVED],
    (OPEN, CLOSED): [STOP_ALL],
    (IN_PROGRESS, OPEN): [],
    (IN_PROGRESS, WAIT_CUSTOMER): [PAUSE_WAIT, RECOMPUTE],
    (IN_PROGRESS, WAIT_THIRD): [],
    (IN_PROGRESS, RESOLVED): [MEET, STOP_OTHERS, PAUSE_RESOLVED],
    (IN_PROGRESS, CLOSED): [STOP_ALL],
    (WAIT_CUSTOMER, OPEN): [END, RECOMPUTE],
    (WAIT_CUSTOMER, IN_PROGRESS): [END, RECOMPUTE],
    (WAIT_CUSTOMER, WAIT_THIRD): [END, RECOMPUTE],
    (WAIT_CUSTOMER, RESOLVED): [END, MEET, STOP_OTHERS, PAUSE_RESOLVED],
    (WAIT_CUSTOMER, CLOSED): [END, STOP_ALL],
    (WAIT_THIRD, OPEN): [],
    (WAIT_THIRD, IN_PROGRESS): [],
    (WAIT_THIRD, WAIT_CUSTOMER): [PAUSE_WAIT, RECOMPUTE],
    (WAIT_THIRD, RESOLVED): [MEET, STOP_OTHERS, PAUSE_RESOLVED],
    (WAIT_THIRD, CLOSED): [STOP_ALL],
    (RESOLVED, OPEN): [END, RESUME, RECOMPUTE, FOLLOW_UP],
    (RESOLVED, IN_PROGRESS): [END, RESUME, RECOMPUTE, FOLLOW_UP],
    # The resolved pause stays open through closing: a re-opening adds all of it back.
    (RESOLVED, CLOSED): [STOP_ALL],
    (CLOSED, OPEN): [END, RESUME, RECOMPUTE, FOLLOW_UP],
}
ALLOWED = sorted(TRANSITIONS)


def test_the_table_has_a_row_for_exactly_the_moves_the_workflow_allows():
    assert set(EXPECTED) == set(TRANSITIONS) == set(rules.MOVES)
    assert len(EXPECTED) == 30


@pytest.mark.parametrize(("old", "new"), ALLOWED, ids=[f"{o}-{n}" for o, n in ALLOWED])
def test_each_move_has_its_effects_in_the_order_they_apply(old, new):
    assert effects_of(old, new) == EXPECTED[(old, new)]
    assert effects_of(str(old), str(new)) == EXPECTED[(old, new)]  # plain strings too


FORBIDDEN = [(o, n) for o in Status for n in Status if (o, n) not in TRANSITIONS]


@pytest.mark.parametrize(("old", "new"), FORBIDDEN, ids=[f"{o}-{n}" for o, n in FORBIDDEN])
def test_a_move_the_workflow_forbids_has_no_effects_to_give(old, new):
    with pytest.raises(KeyError):
        effects_of(old, new)


moves = st.sampled_from(ALLOWED)


@given(moves)
def test_a_move_into_waiting_on_the_customer_always_starts_a_pause(move):
    old, new = move
    assert (PAUSE_WAIT in effects_of(old, new)) == (new == WAIT_CUSTOMER)


@given(moves)
def test_every_move_out_of_waiting_on_the_customer_ends_the_pause(move):
    old, new = move
    if old == WAIT_CUSTOMER:
        assert END in effects_of(old, new)


@given(moves)
def test_no_move_both_starts_a_pause_and_resumes_the_resolution_clock(move):
    effects = set(effects_of(*move))
    assert not ({PAUSE_WAIT, PAUSE_RESOLVED} & effects and RESUME in effects)
    assert not {PAUSE_WAIT, PAUSE_RESOLVED} <= effects  # at most one pause starts


@given(moves)
def test_resolving_meets_the_resolution_target_and_closing_stops_every_clock(move):
    old, new = move
    effects = set(effects_of(old, new))
    assert ({MEET, STOP_OTHERS, PAUSE_RESOLVED} <= effects) == (new == RESOLVED)
    assert (STOP_ALL in effects) == (new == CLOSED)
    assert (MEET in effects) == (new == RESOLVED)


@given(moves)
def test_only_a_reopening_resumes_and_owes_updates_again(move):
    old, new = move
    reopening = old in (RESOLVED, CLOSED) and new in ACTIVE
    effects = set(effects_of(old, new))
    assert (RESUME in effects) == reopening == (FOLLOW_UP in effects)


@given(moves)
def test_clocks_are_recomputed_exactly_when_a_pause_starts_or_ends_on_running_clocks(move):
    old, new = move
    effects = set(effects_of(old, new))
    holds_changed = bool({PAUSE_WAIT, END, RESUME} & effects)
    assert (RECOMPUTE in effects) == (holds_changed and rules.clocks_run_after(new))


@given(moves)
def test_nothing_changes_while_the_ticket_is_worked_on_sideways(move):
    old, new = move
    worked = ACTIVE - {WAIT_CUSTOMER}
    if old in worked and new in worked:
        assert effects_of(old, new) == []


class Model:
    """A ticket's clocks reduced to what the effects touch: the open pause and the resolution
    and first-response clocks' outcomes."""

    def __init__(self):
        self.status, self.pause = NEW, None
        self.resolution = self.first = "running"
        self.follow_up = False

    def apply(self, new):
        for effect in effects_of(self.status, new):
            if effect == END:
                self.pause = None
            elif effect == RESUME:
                self.resolution = "running"
            elif effect in (PAUSE_WAIT, PAUSE_RESOLVED):
                assert self.pause is None, "one open pause per ticket (a database constraint)"
                self.pause = "waiting" if effect == PAUSE_WAIT else "resolved"
            elif effect == MEET:
                self.resolution = "met" if self.resolution == "running" else self.resolution
            elif effect == STOP_OTHERS:
                self.first = "stopped" if self.first == "running" else self.first
                self.follow_up = False
            elif effect == STOP_ALL:
                self.resolution = "stopped" if self.resolution == "running" else self.resolution
                self.first = "stopped" if self.first == "running" else self.first
                self.follow_up = False
            elif effect == FOLLOW_UP:
                self.follow_up = True
        self.status = new


@st.composite
def walks(draw):
    """A path of allowed moves from a new ticket, up to 12 moves long."""
    path, status = [], NEW
    for _ in range(draw(st.integers(0, 12))):
        status = draw(st.sampled_from(sorted(to for (old, to) in TRANSITIONS if old == status)))
        path.append(status)
    return path


@given(walks())
def test_along_any_walk_the_pause_and_the_resolution_clock_follow_the_status(path):
    model = Model()
    came_from_resolved = False
    for new in path:
        came_from_resolved = new == CLOSED and model.status == RESOLVED
        model.apply(new)
        # Waiting on the customer is the waiting pause; resolved (and closed after it) the
        # resolved pause; anything else holds nothing.
        if new == WAIT_CUSTOMER:
            assert model.pause == "waiting"
        elif new == RESOLVED or came_from_resolved:
            assert model.pause == "resolved"
        else:
            assert model.pause is None
        # Worked on: the resolution clock runs; resolved: met; closed: met or stopped.
        if new in ACTIVE:
            assert model.resolution == "running"
        elif new == RESOLVED:
            assert model.resolution == "met"
        else:
            assert model.resolution in ("met", "stopped") and not model.follow_up


# ---- States ----------------------------------------------------------------------------

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
DUE, WARN = T0 + 4 * H, T0 + 3 * H


def facts(**changes):
    return ClockFacts(due_at=DUE, warn_at=WARN, **changes)


# (outcome, moment) -> state, with a clock that gets there: written out from the rules.
STATES = [
    (Outcome.RUNNING, Moment.BEFORE_WARNING, State.OK, facts(), T0 + H),
    (Outcome.RUNNING, Moment.WARNING, State.WARNING, facts(), WARN),
    (Outcome.RUNNING, Moment.PAST_DUE, State.BREACHED, facts(), DUE),
    (Outcome.MET, Moment.BEFORE_WARNING, State.MET, facts(met_at=T0 + H), T0 + 9 * H),
    (Outcome.MET, Moment.WARNING, State.MET, facts(met_at=WARN, warned_at=WARN), T0 + 9 * H),
    (Outcome.MET, Moment.PAST_DUE, State.MET_LATE, facts(met_at=DUE + H), T0 + 9 * H),
    (Outcome.STOPPED, Moment.BEFORE_WARNING, State.STOPPED, facts(stopped=True), T0 + 9 * H),
    (Outcome.STOPPED, Moment.WARNING, State.STOPPED, facts(stopped=True, warned_at=WARN), DUE),
    (
        Outcome.STOPPED,
        Moment.PAST_DUE,
        State.BREACHED,
        facts(stopped=True, warned_at=WARN, breached_at=DUE),
        DUE + H,
    ),
]


def test_the_state_table_covers_every_outcome_and_moment():
    assert {(o, m) for o, m, *_ in STATES} == set(rules.CLOCK_STATES)
    assert len(rules.CLOCK_STATES) == len(Outcome) * len(Moment)


@pytest.mark.parametrize(
    ("outcome", "moment", "state", "clock", "now"), STATES, ids=[f"{o}-{m}" for o, m, *_ in STATES]
)
def test_a_clock_shows_the_state_of_its_outcome_and_moment(outcome, moment, state, clock, now):
    assert clock.outcome == outcome
    assert rules.moment_of(clock, now=now) == moment
    assert rules.CLOCK_STATES[(outcome, moment)] == state
    assert clock_state(clock, now=now) == state


def test_a_recorded_breach_counts_even_before_its_moment_and_a_late_reply_without_one_too():
    assert clock_state(facts(breached_at=DUE), now=T0) == State.BREACHED
    assert clock_state(facts(warned_at=WARN), now=T0) == State.WARNING
    # The sweep had not run when the late answer came: late all the same.
    assert met_late(facts(met_at=DUE + H))
    # Answered while paused (no due time), after a breach recorded before the pause.
    assert met_late(ClockFacts(due_at=None, met_at=DUE + H, breached_at=DUE))
    assert not met_late(ClockFacts(due_at=None, met_at=DUE + H))
    assert not met_late(facts(met_at=DUE))  # at the due minute is in time
    assert not met_late(facts())  # not met at all


def test_a_stopped_clock_does_not_turn_breached_as_time_passes():
    assert clock_state(facts(stopped=True), now=DUE + 100 * H) == State.STOPPED


def test_a_paused_clock_is_running_with_no_due_time():
    paused = ClockFacts(due_at=None, warn_at=WARN)
    assert paused.paused and paused.outcome == Outcome.RUNNING
    assert clock_state(paused, now=WARN + H) == State.WARNING
    assert not facts(met_at=T0).paused


RUNNING_OK, RUNNING_WARNING = facts(), facts(warned_at=WARN)
RUNNING_BREACHED, PAUSED = facts(breached_at=DUE), ClockFacts(due_at=None)
MET_IN_TIME, MET_LATE = facts(met_at=T0 + H), facts(met_at=DUE + H, breached_at=DUE)
STOPPED, STOPPED_BREACHED = facts(stopped=True), facts(stopped=True, breached_at=DUE)

TICKETS = [
    ([], Overall.NONE, False),
    ([STOPPED], Overall.NONE, False),
    ([STOPPED_BREACHED], Overall.NONE, False),  # a stopped clock says nothing of the ticket
    ([MET_IN_TIME], Overall.MET, False),
    ([MET_LATE], Overall.MET, False),  # the enum of the API: the lateness is told per clock
    ([MET_LATE, STOPPED], Overall.MET, False),
    ([RUNNING_OK], Overall.OK, False),
    ([MET_LATE, RUNNING_OK], Overall.OK, False),  # what still runs decides
    ([RUNNING_OK, RUNNING_WARNING], Overall.WARNING, False),
    ([RUNNING_BREACHED, RUNNING_WARNING, RUNNING_OK], Overall.BREACHED, False),
    ([PAUSED], Overall.OK, True),
    ([PAUSED, RUNNING_WARNING, MET_IN_TIME], Overall.WARNING, True),
    ([STOPPED_BREACHED, PAUSED], Overall.OK, True),
]


@pytest.mark.parametrize(("clocks", "state", "paused"), TICKETS)
def test_a_tickets_state_is_the_worst_of_its_running_clocks(clocks, state, paused):
    assert ticket_state(clocks, now=T0 + H) == rules.TicketState(state, paused)


EVERY_KIND = [RUNNING_OK, RUNNING_WARNING, RUNNING_BREACHED, PAUSED, MET_IN_TIME, MET_LATE]
EVERY_KIND += [STOPPED, STOPPED_BREACHED]
clocks_st = st.lists(st.sampled_from(EVERY_KIND), max_size=4)


@given(clocks_st, st.randoms())
def test_a_tickets_state_does_not_depend_on_the_order_of_its_clocks(clocks, random):
    shuffled = list(clocks)
    random.shuffle(shuffled)
    assert ticket_state(clocks, now=T0 + H) == ticket_state(shuffled, now=T0 + H)


@given(clocks_st)
def test_a_ticket_is_breached_exactly_when_a_running_clock_is(clocks):
    now = T0 + H
    running = [c for c in clocks if c.outcome == Outcome.RUNNING]
    summary = ticket_state(clocks, now=now)
    assert (summary.state == Overall.BREACHED) == any(
        clock_state(c, now=now) == State.BREACHED for c in running
    )
    assert summary.paused == any(c.paused for c in running)
    if not running:
        assert summary.state in (Overall.MET, Overall.NONE)


@given(clocks_st, st.sampled_from([RUNNING_OK, RUNNING_WARNING, RUNNING_BREACHED, PAUSED]))
def test_another_running_clock_never_makes_a_ticket_look_better(clocks, extra):
    order = [Overall.NONE, Overall.MET, Overall.OK, Overall.WARNING, Overall.BREACHED]
    now = T0 + H
    before, after = ticket_state(clocks, now=now), ticket_state([*clocks, extra], now=now)
    running_before = any(c.outcome == Outcome.RUNNING for c in clocks)
    if running_before:
        assert order.index(after.state) >= order.index(before.state)
    assert after.state in rules.SEVERITY_ORDER
