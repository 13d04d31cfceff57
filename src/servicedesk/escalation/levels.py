"""The support levels (SPEC §6) as a pure rule: L1 → L2 → L3 and back down.

Which moves between levels are escalations and which de-escalations, and the refusals, as
plain values: no Django, no ORM. ``escalation.services`` applies them; the API and the
desk show the refusals as they are.
"""

from enum import StrEnum

from servicedesk.core.errors import Conflict, DomainError, Term, gettext_noop


class Level(StrEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


class Direction(StrEnum):
    ESCALATION = "escalation"
    DE_ESCALATION = "de_escalation"


# Lowest first: first line, CRM specialists, development.
ORDER: tuple[Level, ...] = (Level.L1, Level.L2, Level.L3)

LABELS: dict[Level, str] = {
    Level.L1: gettext_noop("Level 1 — first line"),
    Level.L2: gettext_noop("Level 2 — CRM specialists"),
    Level.L3: gettext_noop("Level 3 — development"),
}

# A ticket in no group (or a group of no level) is with first line: new work starts there.
ENTRY: Level = Level.L1


class InvalidEscalation(DomainError):
    """The request lacks what an escalation needs (a reason, a known level...): 422."""

    code = "invalid_escalation"


class EscalationNotAllowed(Conflict):
    """The move conflicts with where the ticket is (already there, the wrong way): 409."""

    code = "escalation_not_allowed"


def parse_level(value: str) -> Level:
    """The level ``value`` names (``"L2"``), or ``InvalidEscalation``."""
    try:
        return Level(str(value).upper())
    except ValueError:
        raise InvalidEscalation(
            gettext_noop("Unknown support level %(level)r: one of L1, L2, L3."),
            level=str(value)[:20],
        ) from None


def direction(current: Level | None, to: Level) -> Direction:
    """Whether moving from ``current`` (None: no level yet, as first line) to ``to`` is an
    escalation (up) or a de-escalation (down); ``EscalationNotAllowed`` if it stays put."""
    current, to = Level(current or ENTRY), Level(to)
    if current == to:
        raise EscalationNotAllowed(
            gettext_noop("The ticket is already at %(level)s."), level=Term(LABELS[to])
        )
    return (
        Direction.ESCALATION if ORDER.index(to) > ORDER.index(current) else Direction.DE_ESCALATION
    )


# (from, to) -> the direction, for every move between two different levels. Skipping a
# level is allowed both ways (first line may send a confirmed bug straight to development).
MOVES: dict[tuple[Level, Level], Direction] = {
    (a, b): (Direction.ESCALATION if ORDER.index(b) > ORDER.index(a) else Direction.DE_ESCALATION)
    for a in ORDER
    for b in ORDER
    if a != b
}


def check_move(current: Level | None, to: Level, *, want: Direction, reason: str) -> Direction:
    """Return the direction of the move if it is the one asked for (``want``), with a reason;
    raise ``InvalidEscalation`` (no reason) or ``EscalationNotAllowed`` (already there, the
    wrong way, nowhere higher or lower to go) otherwise."""
    if not reason.strip():
        if want == Direction.ESCALATION:
            raise InvalidEscalation(gettext_noop("Say why the ticket is escalated."))
        raise InvalidEscalation(gettext_noop("Say why the ticket goes back down."))
    found = direction(current, to)
    names = {"current": Term(LABELS[Level(current or ENTRY)]), "to": Term(LABELS[Level(to)])}
    if found != want:
        if want == Direction.ESCALATION:
            raise EscalationNotAllowed(
                gettext_noop(
                    "%(to)s is below %(current)s: that is a de-escalation, not an escalation."
                ),
                **names,
            )
        raise EscalationNotAllowed(
            gettext_noop(
                "%(to)s is above %(current)s: that is an escalation, not a de-escalation."
            ),
            **names,
        )
    return found


def level_below(current: Level | None) -> Level:
    """The level one step down from ``current``; ``EscalationNotAllowed`` at first line."""
    current = Level(current or ENTRY)
    index = ORDER.index(current)
    if index == 0:
        raise EscalationNotAllowed(
            gettext_noop("The ticket is at first line already: there is no lower level.")
        )
    return ORDER[index - 1]


def check_notice(*, notify_customer: bool, no_notice_reason: str) -> None:
    """The customer is told of each escalation unless the agent says why not (SPEC §6)."""
    if not notify_customer and not no_notice_reason.strip():
        raise InvalidEscalation(
            gettext_noop("Say why the customer is not told of this escalation.")
        )
