"""Public holidays from the holidays library, as closed dates. Pure: no database."""

from datetime import date

import pytest

from servicedesk.sla.calendar import CalendarError
from servicedesk.sla.holidays import public_holidays


def test_england_2026_has_easter_and_christmas_bank_holidays():
    england = public_holidays("GB", "ENG", [2026])

    assert date(2026, 4, 3) in england  # Good Friday
    assert date(2026, 4, 6) in england  # Easter Monday
    assert date(2026, 12, 25) in england  # Christmas Day
    assert date(2026, 12, 28) in england  # Boxing Day (observed): the 26th is a Saturday


def test_england_has_no_scottish_bank_holidays():
    england = public_holidays("GB", "ENG", [2026])
    scotland = public_holidays("GB", "SCT", [2026])

    assert date(2026, 1, 2) not in england
    assert date(2026, 1, 2) in scotland


def test_norway_has_constitution_day():
    assert date(2026, 5, 17) in public_holidays("NO", None, [2026])


def test_france_has_bastille_day():
    assert date(2026, 7, 14) in public_holidays("FR", None, [2026])


def test_covers_every_year_asked_for():
    norway = public_holidays("NO", None, range(2025, 2028))

    assert {date(year, 5, 17) for year in (2025, 2026, 2027)} <= norway
    assert date(2028, 5, 17) not in norway


def test_returns_a_frozenset_of_dates():
    england = public_holidays("GB", "ENG", [2026])

    assert isinstance(england, frozenset)
    assert all(type(day) is date for day in england)


def test_codes_are_case_insensitive():
    assert public_holidays("gb", "eng", [2026]) == public_holidays("GB", "ENG", [2026])


def test_no_years_gives_no_holidays():
    assert public_holidays("FR", None, []) == frozenset()


@pytest.mark.parametrize(("country", "subdivision"), [("XX", None), ("", None), ("GB", "XYZ")])
def test_refuses_an_unknown_country_or_subdivision(country, subdivision):
    with pytest.raises(CalendarError):
        public_holidays(country, subdivision, [2026])
