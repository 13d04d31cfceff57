"""The stages of a change request as a pure table (no database): every (from, to) pair
allowed or refused, each gate, the moves the board offers, and who takes a new CR."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedesk.changes import workflow
from servicedesk.changes.workflow import Facts, Stage, StageNotAllowed
from servicedesk.core.errors import Conflict

S = Stage
READY = Facts(has_estimate=True, chargeable_decided=True, approved=True, reviewed=True)
BLANK = Facts(has_estimate=False, chargeable_decided=False, approved=False, reviewed=False)

# Written out from the issue (SPEC §7), not read from the module: the table must say this.
PLAIN_MOVES = {
    (S.REQUESTED, S.ASSESSMENT),
    (S.ASSESSMENT, S.AWAITING_APPROVAL),
    (S.AWAITING_APPROVAL, S.ASSESSMENT),
    (S.UNAPPROVED, S.ASSESSMENT),
    (S.UNAPPROVED, S.AWAITING_APPROVAL),
    (S.APPROVED, S.TESTING),
    (S.APPROVED, S.IMPLEMENTATION),
    (S.TESTING, S.APPROVED),
    (S.TESTING, S.IMPLEMENTATION),
    (S.IMPLEMENTATION, S.TESTING),
    (S.IMPLEMENTATION, S.REVIEW),
    (S.REVIEW, S.CLOSED),
}
DECISIONS = {(S.AWAITING_APPROVAL, S.APPROVED), (S.AWAITING_APPROVAL, S.UNAPPROVED)}
EVERY_PAIR = list(itertools.product(Stage, Stage))

facts = st.builds(Facts, st.booleans(), st.booleans(), st.booleans(), st.booleans())


def test_the_table_holds_exactly_the_plain_moves_and_the_two_decisions():
    assert set(workflow.TRANSITIONS) == PLAIN_MOVES | DECISIONS
    assert {pair for pair, move in workflow.TRANSITIONS.items() if move.decision} == DECISIONS


@pytest.mark.parametrize(("current", "to"), EVERY_PAIR, ids=lambda s: str(s))
def test_every_pair_is_allowed_to_staff_only_if_it_is_a_plain_move(current, to):
    if (current, to) in PLAIN_MOVES:
        move = workflow.check_move(current, to, READY)

        assert move.decision is False
    else:
        with pytest.raises(StageNotAllowed) as refused:
            workflow.check_move(current, to, READY)

        assert refused.value.code == "stage_not_allowed"
        assert isinstance(refused.value, Conflict)  # the API's 409


@pytest.mark.parametrize(("current", "to"), EVERY_PAIR, ids=lambda s: str(s))
def test_only_the_two_decisions_are_allowed_by_decision(current, to):
    if (current, to) in DECISIONS:
        assert workflow.check_move(current, to, READY, by_decision=True).decision is True
    elif (current, to) not in PLAIN_MOVES:
        with pytest.raises(StageNotAllowed):
            workflow.check_move(current, to, READY, by_decision=True)


@pytest.mark.parametrize(("current", "to"), sorted(DECISIONS))
def test_staff_cannot_approve_or_unapprove_in_the_administrators_place(current, to):
    with pytest.raises(StageNotAllowed, match="Only the organisation's administrator"):
        workflow.check_move(current, to, READY)


def test_staying_in_a_stage_is_refused_with_its_name():
    with pytest.raises(StageNotAllowed, match="already Review"):
        workflow.check_move(S.REVIEW, S.REVIEW, READY)


def test_a_move_outside_the_table_names_both_stages():
    with pytest.raises(StageNotAllowed) as refused:
        workflow.check_move(S.REQUESTED, S.CLOSED, READY)

    assert str(refused.value) == "A change request cannot move from Requested to Closed."


def test_stages_are_read_from_their_names():
    assert workflow.check_move("requested", "assessment", BLANK).decision is False


# -- the gates --------------------------------------------------------------------------------

NO_ESTIMATE = Facts(has_estimate=False, chargeable_decided=True, approved=True, reviewed=True)
NO_CHARGEABLE = Facts(has_estimate=True, chargeable_decided=False, approved=True, reviewed=True)
NOT_APPROVED = Facts(has_estimate=True, chargeable_decided=True, approved=False, reviewed=True)
NOT_REVIEWED = Facts(has_estimate=True, chargeable_decided=True, approved=True, reviewed=False)


@pytest.mark.parametrize("current", [S.ASSESSMENT, S.UNAPPROVED])
@pytest.mark.parametrize("missing", [NO_ESTIMATE, NO_CHARGEABLE], ids=["estimate", "chargeable"])
def test_no_approval_request_without_an_estimate_and_the_chargeable_decision(current, missing):
    with pytest.raises(StageNotAllowed, match="effort estimate and the chargeable decision"):
        workflow.check_move(current, S.AWAITING_APPROVAL, missing)


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (S.APPROVED, S.TESTING),
        (S.APPROVED, S.IMPLEMENTATION),
        (S.TESTING, S.IMPLEMENTATION),
        (S.IMPLEMENTATION, S.TESTING),
    ],
)
def test_no_testing_or_implementation_without_an_approval(current, to):
    with pytest.raises(StageNotAllowed, match="only once it is approved"):
        workflow.check_move(current, to, NOT_APPROVED)


def test_no_closing_without_a_review():
    with pytest.raises(StageNotAllowed, match="only after its post-implementation review"):
        workflow.check_move(S.REVIEW, S.CLOSED, NOT_REVIEWED)


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (S.REQUESTED, S.ASSESSMENT),
        (S.AWAITING_APPROVAL, S.ASSESSMENT),
        (S.UNAPPROVED, S.ASSESSMENT),
        (S.TESTING, S.APPROVED),
        (S.IMPLEMENTATION, S.REVIEW),
    ],
)
def test_moves_without_a_gate_need_no_facts(current, to):
    assert workflow.check_move(current, to, BLANK).decision is False


def test_a_decision_passes_no_gate_of_its_own():
    assert workflow.check_move(S.AWAITING_APPROVAL, S.APPROVED, BLANK, by_decision=True)
    assert workflow.check_move(S.AWAITING_APPROVAL, S.UNAPPROVED, BLANK, by_decision=True)


@pytest.mark.parametrize(
    ("to", "facts", "gated"),
    [
        (S.AWAITING_APPROVAL, READY, False),
        (S.AWAITING_APPROVAL, NO_ESTIMATE, True),
        (S.AWAITING_APPROVAL, NO_CHARGEABLE, True),
        (S.TESTING, NOT_APPROVED, True),
        (S.IMPLEMENTATION, NOT_APPROVED, True),
        (S.IMPLEMENTATION, NOT_REVIEWED, False),
        (S.CLOSED, NOT_REVIEWED, True),
        (S.CLOSED, NOT_APPROVED, False),
        (S.REVIEW, BLANK, False),
        (S.ASSESSMENT, BLANK, False),
    ],
)
def test_gate_says_why_or_nothing(to, facts, gated):
    assert (workflow.gate(to, facts) is not None) is gated


# -- what the board offers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "facts", "offered"),
    [
        (S.REQUESTED, BLANK, [S.ASSESSMENT]),
        (S.ASSESSMENT, BLANK, []),
        (S.ASSESSMENT, NO_CHARGEABLE, []),
        (S.ASSESSMENT, READY, [S.AWAITING_APPROVAL]),
        (S.AWAITING_APPROVAL, READY, [S.ASSESSMENT]),  # never the decision
        (S.UNAPPROVED, BLANK, [S.ASSESSMENT]),
        (S.UNAPPROVED, NOT_APPROVED, [S.ASSESSMENT, S.AWAITING_APPROVAL]),
        (S.APPROVED, READY, [S.TESTING, S.IMPLEMENTATION]),
        (S.TESTING, READY, [S.APPROVED, S.IMPLEMENTATION]),
        (S.TESTING, NOT_APPROVED, [S.APPROVED]),
        (S.IMPLEMENTATION, READY, [S.TESTING, S.REVIEW]),
        (S.REVIEW, NOT_REVIEWED, []),
        (S.REVIEW, READY, [S.CLOSED]),
        (S.CLOSED, READY, []),
    ],
)
def test_allowed_moves_in_stage_order(current, facts, offered):
    assert workflow.allowed_moves(current, facts) == offered


@given(current=st.sampled_from(Stage), facts=facts)
def test_allowed_moves_are_exactly_the_moves_check_move_accepts(current, facts):
    accepted = []
    for to in Stage:
        try:
            workflow.check_move(current, to, facts)
        except StageNotAllowed:
            continue
        accepted.append(to)

    assert workflow.allowed_moves(current, facts) == accepted


@given(current=st.sampled_from(Stage), facts=facts)
def test_the_table_is_closed_every_move_lands_on_a_stage_with_a_label(current, facts):
    for to in workflow.allowed_moves(current, facts):
        assert to in workflow.LABELS


# -- the stage sets and labels ----------------------------------------------------------------


def test_every_stage_has_a_label():
    assert set(workflow.LABELS) == set(Stage)


def test_not_yet_approved_is_what_the_monthly_report_lists():
    assert set(workflow.NOT_YET_APPROVED) == {S.REQUESTED, S.ASSESSMENT, S.AWAITING_APPROVAL}


def test_open_leaves_out_closed_and_unapproved():
    assert set(Stage) - workflow.OPEN == {S.CLOSED, S.UNAPPROVED}


def test_nothing_leaves_closed():
    assert not [to for (current, to) in workflow.TRANSITIONS if current == S.CLOSED]


# -- routing (SPEC §3) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customisation", "vendor_id", "lead_id", "route"),
    [
        (False, 7, 3, workflow.Route(vendor_id=7, assignee_id=None)),
        (False, None, 3, workflow.Route(vendor_id=None, assignee_id=3)),
        (True, 7, 3, workflow.Route(vendor_id=None, assignee_id=3)),
        (True, None, None, workflow.Route(vendor_id=None, assignee_id=None)),
        (False, None, None, workflow.Route(vendor_id=None, assignee_id=None)),
    ],
)
def test_standard_software_goes_to_its_vendor_a_customisation_to_the_project_lead(
    customisation, vendor_id, lead_id, route
):
    assert (
        workflow.route(customisation=customisation, vendor_id=vendor_id, project_lead_id=lead_id)
        == route
    )
