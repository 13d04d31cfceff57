"""Every (from, to, actor) move against a table written out by hand from the product rules."""

import itertools

import pytest

from servicedesk.tickets.workflow import (
    Actor,
    Status,
    TransitionNotAllowed,
    allowed_targets,
    check_transition,
    status_after_customer_reply,
)

N, OP, P, WC, WT, R, C = (
    Status.NEW, Status.OPEN, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER,
    Status.WAITING_ON_THIRD_PARTY, Status.RESOLVED, Status.CLOSED,
)  # fmt: skip

STAFF_MOVES = {
    (N, OP), (N, P), (N, WC), (N, WT), (N, R), (N, C),
    (OP, P), (OP, WC), (OP, WT), (OP, R), (OP, C),
    (P, OP), (P, WC), (P, WT), (P, R), (P, C),
    (WC, OP), (WC, P), (WC, WT), (WC, R), (WC, C),
    (WT, OP), (WT, P), (WT, WC), (WT, R), (WT, C),
    (R, OP), (R, P), (R, C),
    (C, OP),
}  # fmt: skip
# A customer may only answer (which resumes or re-opens) or confirm a resolution.
CUSTOMER_MOVES = {(WC, OP), (R, OP), (R, C)}
# The desk's automation: re-open on a reply, close after a resolution or unanswered attempts.
SYSTEM_MOVES = {(WC, OP), (R, OP), (R, C), (WC, C)}
NEEDS_REASON = {(N, C), (OP, C), (P, C), (WC, C), (WT, C), (C, OP)}

EXPECTED = {Actor.STAFF: STAFF_MOVES, Actor.CUSTOMER: CUSTOMER_MOVES, Actor.SYSTEM: SYSTEM_MOVES}
ALL = list(itertools.product(Status, Status, Actor))


@pytest.mark.parametrize(("current", "to", "actor"), ALL)
def test_each_move_is_allowed_exactly_when_the_table_says(current, to, actor):
    allowed = (current, to) in EXPECTED[actor]
    reason = "duplicate of SD-10001" if (current, to) in NEEDS_REASON else ""

    if allowed:
        rule = check_transition(current, to, actor=actor, reason=reason)
        assert actor in rule.actors
    else:
        with pytest.raises(TransitionNotAllowed) as error:
            check_transition(current, to, actor=actor, reason=reason)
        assert error.value.message
        assert error.value.code == "transition_not_allowed"


@pytest.mark.parametrize(("current", "to"), sorted(NEEDS_REASON))
def test_moves_that_need_a_reason_are_refused_without_one(current, to):
    with pytest.raises(TransitionNotAllowed, match="needs a reason"):
        check_transition(current, to, actor=Actor.STAFF, reason="  ")


def test_closed_to_in_progress_says_to_reopen_first():
    with pytest.raises(TransitionNotAllowed, match="Re-open it first"):
        check_transition(C, P, actor=Actor.STAFF)


def test_a_move_to_the_same_status_is_refused():
    with pytest.raises(TransitionNotAllowed, match="already"):
        check_transition(OP, OP, actor=Actor.STAFF)


def test_nothing_moves_back_to_new():
    assert all(N not in allowed_targets(s, actor=a) for s in Status for a in Actor)


def test_a_customer_is_told_only_the_desk_can_make_the_move():
    with pytest.raises(TransitionNotAllowed, match="Only the support desk"):
        check_transition(OP, R, actor=Actor.CUSTOMER)


def test_allowed_targets_lists_the_table_in_workflow_order():
    assert allowed_targets(R, actor=Actor.CUSTOMER) == [OP, C]
    assert allowed_targets(C, actor=Actor.STAFF) == [OP]


@pytest.mark.parametrize(
    ("current", "after"),
    [(N, None), (OP, None), (P, None), (WC, OP), (WT, None), (R, OP), (C, None)],
)
def test_a_customer_reply_reopens_resolved_and_resumes_waiting(current, after):
    assert status_after_customer_reply(current) == after
