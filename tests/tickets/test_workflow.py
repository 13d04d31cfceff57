"""The workflow (SPEC §3, §8): every (from, to, actor) move against a table written out by
hand from the product rules, not read back from ``TRANSITIONS``."""

import itertools

import pytest

from servicedesk.core.errors import Conflict
from servicedesk.tickets.workflow import (
    ACTIVE,
    Actor,
    Status,
    TransitionNotAllowed,
    allowed_targets,
    check_transition,
    status_after_customer_reply,
)

NEW, OPEN, IN_PROGRESS = Status.NEW, Status.OPEN, Status.IN_PROGRESS
WAIT_CUSTOMER, WAIT_THIRD = Status.WAITING_ON_CUSTOMER, Status.WAITING_ON_THIRD_PARTY
RESOLVED, CLOSED = Status.RESOLVED, Status.CLOSED

# The desk moves a ticket anywhere forward or sideways while it is worked on. Nothing goes
# back to "new"; a resolved ticket may be re-opened, taken up again or closed; a closed
# ticket can only be re-opened.
STAFF_MOVES = {
    (NEW, OPEN), (NEW, IN_PROGRESS), (NEW, WAIT_CUSTOMER), (NEW, WAIT_THIRD),
    (NEW, RESOLVED), (NEW, CLOSED),
    (OPEN, IN_PROGRESS), (OPEN, WAIT_CUSTOMER), (OPEN, WAIT_THIRD), (OPEN, RESOLVED),
    (OPEN, CLOSED),
    (IN_PROGRESS, OPEN), (IN_PROGRESS, WAIT_CUSTOMER), (IN_PROGRESS, WAIT_THIRD),
    (IN_PROGRESS, RESOLVED), (IN_PROGRESS, CLOSED),
    (WAIT_CUSTOMER, OPEN), (WAIT_CUSTOMER, IN_PROGRESS), (WAIT_CUSTOMER, WAIT_THIRD),
    (WAIT_CUSTOMER, RESOLVED), (WAIT_CUSTOMER, CLOSED),
    (WAIT_THIRD, OPEN), (WAIT_THIRD, IN_PROGRESS), (WAIT_THIRD, WAIT_CUSTOMER),
    (WAIT_THIRD, RESOLVED), (WAIT_THIRD, CLOSED),
    (RESOLVED, OPEN), (RESOLVED, IN_PROGRESS), (RESOLVED, CLOSED),
    (CLOSED, OPEN),
}  # fmt: skip
# A customer answers (which resumes a ticket waiting on them, or re-opens a resolved one)
# or confirms the resolution.
CUSTOMER_MOVES = {(WAIT_CUSTOMER, OPEN), (RESOLVED, OPEN), (RESOLVED, CLOSED)}
# The desk's automation does what a customer's reply does, closes a resolved ticket after
# the unanswered attempts, closes one that waited on a customer who never answered, and
# re-opens a closed ticket for its customer within the re-open window.
SYSTEM_MOVES = {
    (WAIT_CUSTOMER, OPEN),
    (RESOLVED, OPEN),
    (RESOLVED, CLOSED),
    (WAIT_CUSTOMER, CLOSED),
    (CLOSED, OPEN),
}
# Closing work that was never resolved (spam, duplicate, withdrawn) and re-opening a closed
# ticket are deliberate: they need a reason.
NEEDS_REASON = {
    (NEW, CLOSED), (OPEN, CLOSED), (IN_PROGRESS, CLOSED), (WAIT_CUSTOMER, CLOSED),
    (WAIT_THIRD, CLOSED), (CLOSED, OPEN),
}  # fmt: skip

EXPECTED = {Actor.STAFF: STAFF_MOVES, Actor.CUSTOMER: CUSTOMER_MOVES, Actor.SYSTEM: SYSTEM_MOVES}
EVERY_MOVE = list(itertools.product(Status, Status, Actor))
REASON = "Duplicate of SD-10001"


def test_the_table_covers_all_147_combinations_and_nobody_outdoes_the_desk():
    assert len(EVERY_MOVE) == 7 * 7 * 3 == 147
    assert CUSTOMER_MOVES <= STAFF_MOVES and SYSTEM_MOVES <= STAFF_MOVES


@pytest.mark.parametrize(
    ("current", "to", "actor"), EVERY_MOVE, ids=[f"{c}-{t}-{a}" for c, t, a in EVERY_MOVE]
)
def test_a_move_is_allowed_exactly_when_the_table_says(current, to, actor):
    allowed = (current, to) in EXPECTED[actor]

    if allowed:
        rule = check_transition(current, to, actor=actor, reason=REASON)
        assert actor in rule.actors
        assert rule.needs_reason == ((current, to) in NEEDS_REASON)
        assert to in allowed_targets(current, actor=actor)
    else:
        with pytest.raises(TransitionNotAllowed) as error:
            check_transition(current, to, actor=actor, reason=REASON)
        assert error.value.code == "transition_not_allowed"
        assert isinstance(error.value, Conflict)
        assert error.value.message.endswith(".")
        assert to not in allowed_targets(current, actor=actor)


@pytest.mark.parametrize("actor", list(Actor))
@pytest.mark.parametrize("current", list(Status))
def test_allowed_targets_lists_the_table_in_workflow_order(current, actor):
    expected = [to for to in Status if (current, to) in EXPECTED[actor]]

    assert allowed_targets(current, actor=actor) == expected


@pytest.mark.parametrize(("current", "to"), sorted(NEEDS_REASON))
@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_moves_needing_a_reason_are_refused_without_one(current, to, reason):
    with pytest.raises(TransitionNotAllowed) as error:
        check_transition(current, to, actor=Actor.STAFF, reason=reason)

    assert "needs a reason" in error.value.message


@pytest.mark.parametrize(("current", "to"), sorted(STAFF_MOVES - NEEDS_REASON))
def test_other_moves_need_no_reason(current, to):
    rule = check_transition(current, to, actor=Actor.STAFF)

    assert not rule.needs_reason


def test_closed_to_in_progress_says_to_reopen_first():
    with pytest.raises(TransitionNotAllowed) as error:
        check_transition(CLOSED, IN_PROGRESS, actor=Actor.STAFF)

    assert error.value.message == (
        "A ticket cannot move from Closed to In progress. Re-open it first."
    )


@pytest.mark.parametrize("to", [NEW, IN_PROGRESS, WAIT_CUSTOMER, WAIT_THIRD, RESOLVED])
def test_every_move_out_of_closed_but_reopening_says_to_reopen_first(to):
    with pytest.raises(TransitionNotAllowed, match="Re-open it first"):
        check_transition(CLOSED, to, actor=Actor.STAFF, reason=REASON)


def test_a_move_that_exists_for_nobody_does_not_say_to_reopen():
    with pytest.raises(TransitionNotAllowed) as error:
        check_transition(OPEN, NEW, actor=Actor.STAFF)

    assert error.value.message == "A ticket cannot move from Open to New."


def test_a_customer_is_told_only_the_desk_can_make_a_desk_move():
    with pytest.raises(TransitionNotAllowed) as error:
        check_transition(OPEN, RESOLVED, actor=Actor.CUSTOMER)

    assert error.value.message == "Only the support desk can move a ticket from Open to Resolved."


@pytest.mark.parametrize("status", list(Status))
def test_a_move_to_the_same_status_is_refused(status):
    with pytest.raises(TransitionNotAllowed, match="already"):
        check_transition(status, status, actor=Actor.STAFF)


def test_the_statuses_may_be_given_as_plain_strings():
    rule = check_transition("resolved", "closed", actor=Actor.CUSTOMER)

    assert not rule.needs_reason


def test_an_unknown_status_is_not_a_move():
    with pytest.raises(ValueError):
        check_transition("open", "frozen", actor=Actor.STAFF)


def test_the_active_statuses_are_those_still_being_worked_on():
    assert {NEW, OPEN, IN_PROGRESS, WAIT_CUSTOMER, WAIT_THIRD} == ACTIVE


@pytest.mark.parametrize(
    ("current", "after"),
    [
        (NEW, None),
        (OPEN, None),
        (IN_PROGRESS, None),
        (WAIT_CUSTOMER, OPEN),
        (WAIT_THIRD, None),
        (RESOLVED, OPEN),
        (CLOSED, None),
    ],
)
def test_a_customer_reply_reopens_resolved_and_resumes_waiting_on_customer(current, after):
    assert status_after_customer_reply(current) == after


@pytest.mark.parametrize("current", [WAIT_CUSTOMER, RESOLVED])
def test_the_move_a_customer_reply_makes_is_one_a_customer_may_make(current):
    after = status_after_customer_reply(current)

    assert check_transition(current, after, actor=Actor.CUSTOMER)
