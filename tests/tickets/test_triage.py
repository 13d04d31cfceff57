import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedesk.tickets import triage

# Every urgency × impact combination, its score and its S4 priority, written out by hand.
S4_TABLE = [
    (1, 1, 1, "medium"), (1, 2, 2, "medium"), (1, 3, 3, "medium"), (1, 4, 4, "medium"),
    (2, 1, 2, "medium"), (2, 2, 4, "medium"), (2, 3, 6, "medium"), (2, 4, 8, "high"),
    (3, 1, 3, "medium"), (3, 2, 6, "medium"), (3, 3, 9, "high"), (3, 4, 12, "critical"),
    (4, 1, 4, "medium"), (4, 2, 8, "high"), (4, 3, 12, "critical"), (4, 4, 16, "critical"),
]  # fmt: skip


@pytest.mark.parametrize(("urgency", "impact", "score", "priority"), S4_TABLE)
def test_assess_gives_the_s4_score_and_priority(urgency, impact, score, priority):
    assessment = triage.assess(urgency=urgency, impact=impact)

    assert assessment.score == score
    assert assessment.priority == priority


def test_the_table_covers_all_sixteen_combinations():
    assert {(u, i) for u, i, _, _ in S4_TABLE} == {(u, i) for u in range(1, 5) for i in range(1, 5)}


@pytest.mark.parametrize(
    ("score", "priority"),
    [
        (1, "low"),
        (3, "low"),
        (4, "medium"),
        (7, "medium"),
        (8, "high"),
        (11, "high"),
        (12, "immediate"),
        (16, "immediate"),
    ],
)
def test_s1_bands_give_four_levels(score, priority):
    assert triage.priority_for(score, bands=triage.S1_BANDS).key == priority


@pytest.mark.parametrize("bad", [0, 5, -1, "3", 2.0, True, None])
def test_levels_outside_one_to_four_are_refused(bad):
    with pytest.raises(triage.InvalidTriage) as error:
        triage.assess(urgency=bad, impact=2)

    assert "urgency" in str(error.value)


def test_a_bad_impact_names_the_impact():
    with pytest.raises(triage.InvalidTriage, match="impact"):
        triage.score(urgency=2, impact=9)


@pytest.mark.parametrize(
    "bands",
    [
        (),
        (triage.Band("a", "A", 1, 7), triage.Band("b", "B", 9, 16)),  # gap at 8
        (triage.Band("a", "A", 1, 8), triage.Band("b", "B", 8, 16)),  # overlap at 8
        (triage.Band("a", "A", 1, 7), triage.Band("a", "A2", 8, 16)),  # duplicate key
        (triage.Band("a", "A", 7, 1), triage.Band("b", "B", 8, 16)),  # reversed
        (triage.Band("a", "A", 1, 17),),  # beyond 16
    ],
)
def test_validate_bands_refuses_gaps_overlaps_and_duplicates(bands):
    with pytest.raises(triage.InvalidTriage):
        triage.validate_bands(bands)


def test_validate_bands_accepts_the_presets():
    triage.validate_bands(triage.S4_BANDS)
    triage.validate_bands(triage.S1_BANDS)


def test_a_desk_may_override_matrix_cells():
    matrix = dict(triage.PRODUCT_MATRIX)
    matrix[(4, 1)] = 12  # business critical for one person still counts as critical here

    assert triage.assess(urgency=4, impact=1, matrix=matrix).priority == "critical"


@given(st.integers(min_value=1, max_value=16), st.sampled_from([triage.S4_BANDS, triage.S1_BANDS]))
def test_every_score_falls_in_exactly_one_band(score, bands):
    holding = [band for band in bands if band.min_score <= score <= band.max_score]

    assert len(holding) == 1
    assert triage.priority_for(score, bands=bands) == holding[0]
