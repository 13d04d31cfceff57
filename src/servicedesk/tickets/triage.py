"""Triage (SPEC §4): urgency × impact → score → priority, by configurable bands.

Pure: no Django. The bands are data passed in; ``S4_BANDS`` is the shipped default and
``S1_BANDS`` the four-level alternative. A ticket keeps the priority key it was given, so
changing the bands later never rewrites the history of tickets triaged under the old ones.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from servicedesk.core.errors import DomainError, gettext_noop


class Urgency(IntEnum):
    LOW = 1  # no immediate impact
    MEDIUM = 2  # immediate impact, workaround
    HIGH = 3  # immediate impact, no workaround
    IMPERATIVE = 4  # business critical


class Impact(IntEnum):
    INDIVIDUAL = 1
    MINOR = 2  # team or department
    SIGNIFICANT = 3  # business area
    MAJOR = 4  # group


MIN_SCORE = 1
MAX_SCORE = 16


class InvalidTriage(DomainError):
    code = "invalid_triage"


@dataclass(frozen=True)
class Band:
    """Scores ``min_score``..``max_score`` (inclusive) give priority ``key``."""

    key: str
    label: str
    min_score: int
    max_score: int


@dataclass(frozen=True)
class Assessment:
    urgency: int
    impact: int
    score: int
    priority: str


S4_BANDS: tuple[Band, ...] = (
    Band("medium", "Medium", 1, 7),
    Band("high", "High", 8, 11),
    Band("critical", "Critical", 12, 16),
)

S1_BANDS: tuple[Band, ...] = (
    Band("low", "Low", 1, 3),
    Band("medium", "Medium", 4, 7),
    Band("high", "High", 8, 11),
    Band("immediate", "Immediate", 12, 16),
)

# The matrix as data: (urgency, impact) -> score. S4 multiplies; a desk may override cells.
PRODUCT_MATRIX: Mapping[tuple[int, int], int] = {
    (u, i): u * i for u in range(1, 5) for i in range(1, 5)
}


def check_level(value: object, *, name: str) -> int:
    """Return ``value`` as an int in 1..4, or raise ``InvalidTriage`` naming the field."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        raise InvalidTriage(
            gettext_noop("%(name)s must be a whole number from 1 to 4, not %(value)r."),
            name=name,
            value=value,
        )
    return value


def score(
    *, urgency: int, impact: int, matrix: Mapping[tuple[int, int], int] = PRODUCT_MATRIX
) -> int:
    """The triage score of an urgency and an impact (1–16 under S4)."""
    return matrix[(check_level(urgency, name="urgency"), check_level(impact, name="impact"))]


def validate_bands(bands: Sequence[Band]) -> None:
    """Raise ``InvalidTriage`` unless the bands cover 1..16 once each, with unique keys."""
    if not bands:
        raise InvalidTriage(gettext_noop("At least one priority band is needed."))
    keys = [band.key for band in bands]
    if len(set(keys)) != len(keys):
        raise InvalidTriage(gettext_noop("Each priority band needs its own key."))
    covered: list[int] = []
    for band in bands:
        if band.min_score > band.max_score:
            raise InvalidTriage(
                gettext_noop("Band %(band)s: the lowest score is above the highest."),
                band=band.label,
            )
        covered.extend(range(band.min_score, band.max_score + 1))
    if sorted(covered) != list(range(MIN_SCORE, MAX_SCORE + 1)):
        raise InvalidTriage(
            gettext_noop("The priority bands must cover every score from 1 to 16 exactly once.")
        )


def priority_for(score_value: int, *, bands: Sequence[Band]) -> Band:
    """The band that holds ``score_value``."""
    for band in bands:
        if band.min_score <= score_value <= band.max_score:
            return band
    raise InvalidTriage(
        gettext_noop("No priority band holds the score %(score)s."), score=score_value
    )


def assess(
    *,
    urgency: int,
    impact: int,
    bands: Sequence[Band] = S4_BANDS,
    matrix: Mapping[tuple[int, int], int] = PRODUCT_MATRIX,
) -> Assessment:
    """Score an urgency and impact and name the priority it falls in."""
    value = score(urgency=urgency, impact=impact, matrix=matrix)
    return Assessment(
        urgency=urgency, impact=impact, score=value, priority=priority_for(value, bands=bands).key
    )
