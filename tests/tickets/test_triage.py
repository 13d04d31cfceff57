"""Triage (SPEC §4): urgency × impact → score → priority, by bands that are configuration."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedesk.tickets import triage
from servicedesk.tickets.triage import Band

# Every urgency × impact combination with its score and S4 priority, written out by hand:
# score = urgency × impact; 1–7 medium, 8–11 high, 12–16 critical.
S4_TABLE = [
    (1, 1, 1, "medium"), (1, 2, 2, "medium"), (1, 3, 3, "medium"), (1, 4, 4, "medium"),
    (2, 1, 2, "medium"), (2, 2, 4, "medium"), (2, 3, 6, "medium"), (2, 4, 8, "high"),
    (3, 1, 3, "medium"), (3, 2, 6, "medium"), (3, 3, 9, "high"), (3, 4, 12, "critical"),
    (4, 1, 4, "medium"), (4, 2, 8, "high"), (4, 3, 12, "critical"), (4, 4, 16, "critical"),
]  # fmt: skip

# S1's four levels: 1–3 low, 4–7 medium, 8–11 high, 12–16 immediate.
S1_TABLE = [
    (1, "low"), (2, "low"), (3, "low"),
    (4, "medium"), (5, "medium"), (6, "medium"), (7, "medium"),
    (8, "high"), (9, "high"), (10, "high"), (11, "high"),
    (12, "immediate"), (13, "immediate"), (14, "immediate"), (15, "immediate"), (16, "immediate"),
]  # fmt: skip


def test_the_s4_table_lists_each_of_the_sixteen_combinations_once():
    pairs = [(urgency, impact) for urgency, impact, _, _ in S4_TABLE]

    assert sorted(pairs) == [(u, i) for u in range(1, 5) for i in range(1, 5)]


@pytest.mark.parametrize(("urgency", "impact", "score", "priority"), S4_TABLE)
def test_assess_gives_the_s4_score_and_priority(urgency, impact, score, priority):
    assessment = triage.assess(urgency=urgency, impact=impact)

    assert assessment == triage.Assessment(
        urgency=urgency, impact=impact, score=score, priority=priority
    )


@pytest.mark.parametrize(("urgency", "impact", "score", "_priority"), S4_TABLE)
def test_score_is_urgency_times_impact(urgency, impact, score, _priority):
    assert triage.score(urgency=urgency, impact=impact) == score


def test_the_enums_name_the_four_levels_of_the_spec():
    assert [level.value for level in triage.Urgency] == [1, 2, 3, 4]
    assert [level.value for level in triage.Impact] == [1, 2, 3, 4]
    assert triage.assess(urgency=triage.Urgency.IMPERATIVE, impact=triage.Impact.MAJOR).score == 16


@pytest.mark.parametrize(("score", "priority"), S1_TABLE)
def test_s1_bands_give_four_levels(score, priority):
    assert triage.priority_for(score, bands=triage.S1_BANDS).key == priority


@pytest.mark.parametrize(
    ("urgency", "impact", "priority"),
    [(1, 3, "low"), (2, 2, "medium"), (3, 3, "high"), (4, 4, "immediate")],
)
def test_assess_uses_the_bands_it_is_given(urgency, impact, priority):
    assessment = triage.assess(urgency=urgency, impact=impact, bands=triage.S1_BANDS)

    assert assessment.priority == priority


@pytest.mark.parametrize("bad", [0, 5, "3", True, None])
def test_an_invalid_urgency_is_refused_naming_the_urgency(bad):
    with pytest.raises(triage.InvalidTriage) as error:
        triage.assess(urgency=bad, impact=2)

    assert "urgency" in error.value.message
    assert repr(bad) in error.value.message
    assert error.value.code == "invalid_triage"


@pytest.mark.parametrize("bad", [0, 5, "3", True, None])
def test_an_invalid_impact_is_refused_naming_the_impact(bad):
    with pytest.raises(triage.InvalidTriage, match="impact"):
        triage.score(urgency=2, impact=bad)


@pytest.mark.parametrize("bad", [-1, 2.0, False, "four"])
def test_other_non_levels_are_refused_too(bad):
    with pytest.raises(triage.InvalidTriage):
        triage.check_level(bad, name="urgency")


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ((), "At least one"),
        ((Band("a", "A", 1, 7), Band("b", "B", 9, 16)), "exactly once"),  # 8 is missing
        ((Band("a", "A", 1, 8), Band("b", "B", 8, 16)), "exactly once"),  # 8 is twice
        ((Band("a", "A", 1, 7), Band("a", "A2", 8, 16)), "own key"),
        ((Band("a", "A", 7, 1), Band("b", "B", 8, 16)), "lowest score is above"),
        ((Band("a", "A", 1, 17),), "exactly once"),
        ((Band("a", "A", 0, 16),), "exactly once"),
        ((Band("a", "A", 2, 16),), "exactly once"),
    ],
    ids=["none", "gap", "overlap", "duplicate-key", "reversed", "beyond-16", "from-0", "no-1"],
)
def test_validate_bands_refuses_gaps_overlaps_and_duplicate_keys(bands, message):
    with pytest.raises(triage.InvalidTriage, match=message):
        triage.validate_bands(bands)


@pytest.mark.parametrize("bands", [triage.S4_BANDS, triage.S1_BANDS], ids=["S4", "S1"])
def test_validate_bands_accepts_the_presets(bands):
    assert triage.validate_bands(bands) is None


def test_priority_for_refuses_a_score_no_band_holds():
    with pytest.raises(triage.InvalidTriage, match="17"):
        triage.priority_for(17, bands=triage.S4_BANDS)


def test_a_desk_may_override_a_cell_of_the_matrix():
    matrix = {**triage.PRODUCT_MATRIX, (4, 1): 12}

    assessment = triage.assess(urgency=4, impact=1, matrix=matrix)

    assert (assessment.score, assessment.priority) == (12, "critical")
    assert triage.assess(urgency=4, impact=1).priority == "medium"


@st.composite
def valid_bands(draw) -> tuple[Band, ...]:
    """Any split of 1..16 into consecutive bands, with distinct keys, in any order."""
    cuts = sorted(draw(st.sets(st.integers(min_value=2, max_value=16), max_size=15)))
    starts = [1, *cuts]
    ends = [start - 1 for start in cuts] + [16]
    bands = [
        Band(f"p{n}", f"P{n}", lo, hi) for n, (lo, hi) in enumerate(zip(starts, ends, strict=True))
    ]
    return tuple(draw(st.permutations(bands)))


@given(bands=st.sampled_from([triage.S4_BANDS, triage.S1_BANDS]) | valid_bands())
def test_every_score_maps_to_exactly_one_band(bands):
    triage.validate_bands(bands)

    for value in range(1, 17):
        holding = [band for band in bands if band.min_score <= value <= band.max_score]
        assert len(holding) == 1
        assert triage.priority_for(value, bands=bands) == holding[0]


@given(
    valid_bands().map(list)
    | st.lists(
        st.builds(
            Band,
            key=st.sampled_from("abcde"),
            label=st.just("L"),
            min_score=st.integers(min_value=0, max_value=17),
            max_score=st.integers(min_value=0, max_value=17),
        ),
        max_size=5,
    )
)
def test_validate_bands_accepts_exactly_the_bands_that_cover_each_score_once(bands):
    keys = [band.key for band in bands]
    covered = sorted(s for band in bands for s in range(band.min_score, band.max_score + 1))
    ordered = all(band.min_score <= band.max_score for band in bands)
    expected_valid = (
        bool(bands) and len(set(keys)) == len(keys) and ordered and covered == list(range(1, 17))
    )

    try:
        triage.validate_bands(bands)
        valid = True
    except triage.InvalidTriage:
        valid = False

    assert valid == expected_valid
