"""The support-level rule as tables: no database."""

import pytest

from servicedesk.escalation import levels
from servicedesk.escalation.levels import (
    Direction,
    EscalationNotAllowed,
    InvalidEscalation,
    Level,
)

UP, DOWN = Direction.ESCALATION, Direction.DE_ESCALATION
L1, L2, L3 = Level.L1, Level.L2, Level.L3


@pytest.mark.parametrize(
    ("current", "to", "expected"),
    [
        (L1, L2, UP),
        (L2, L3, UP),
        (L1, L3, UP),  # a confirmed bug may go straight to development
        (None, L2, UP),  # no group yet: first line
        (L3, L2, DOWN),
        (L2, L1, DOWN),
        (L3, L1, DOWN),
    ],
)
def test_direction_of_each_move(current, to, expected):
    assert levels.direction(current, to) == expected


def test_the_table_holds_every_move_between_two_different_levels():
    assert len(levels.MOVES) == 6
    assert all(levels.MOVES[(a, b)] == levels.direction(a, b) for a, b in levels.MOVES)


@pytest.mark.parametrize(("current", "to"), [(L1, L1), (L2, L2), (L3, L3), (None, L1)])
def test_staying_at_the_same_level_is_refused(current, to):
    with pytest.raises(EscalationNotAllowed, match="already at"):
        levels.direction(current, to)


@pytest.mark.parametrize(
    ("current", "to", "want", "refusal"),
    [
        (L2, L1, UP, "de-escalation, not an escalation"),
        (L3, L2, UP, "de-escalation, not an escalation"),
        (L1, L2, DOWN, "escalation, not a de-escalation"),
        (L2, L3, DOWN, "escalation, not a de-escalation"),
    ],
)
def test_a_move_the_wrong_way_is_refused(current, to, want, refusal):
    with pytest.raises(EscalationNotAllowed, match=refusal):
        levels.check_move(current, to, want=want, reason="because")


@pytest.mark.parametrize("want", [UP, DOWN])
@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_move_needs_a_reason(want, reason):
    with pytest.raises(InvalidEscalation, match="Say why"):
        levels.check_move(L2, L3 if want == UP else L1, want=want, reason=reason)


@pytest.mark.parametrize(("current", "below"), [(L3, L2), (L2, L1)])
def test_level_below(current, below):
    assert levels.level_below(current) == below


@pytest.mark.parametrize("current", [L1, None])
def test_nothing_is_below_first_line(current):
    with pytest.raises(EscalationNotAllowed, match="no lower level"):
        levels.level_below(current)


@pytest.mark.parametrize(("given", "expected"), [("L2", L2), ("l3", L3)])
def test_parse_level(given, expected):
    assert levels.parse_level(given) == expected


@pytest.mark.parametrize("given", ["L4", "", "two"])
def test_an_unknown_level_is_refused(given):
    with pytest.raises(InvalidEscalation, match="Unknown support level"):
        levels.parse_level(given)


def test_not_telling_the_customer_needs_a_reason():
    levels.check_notice(notify_customer=True, no_notice_reason="")
    levels.check_notice(notify_customer=False, no_notice_reason="customer asked for no mail")

    with pytest.raises(InvalidEscalation, match="not told"):
        levels.check_notice(notify_customer=False, no_notice_reason=" ")
